"""bmtk's clamps: voltage clamps (`SEClamp`, at the end) and current clamps (`IClamp`) in
the form the driver's IClamp module reads: lists of
`amp`, `delay`, `duration` as one clamp per step (bmtk makes one IClamp each), and a
`csv` / `file` input as one clamp whose amplitude is played from the file's rows.

bmtk's CSV clamp (facts of bmtk 1.2): columns `timestamps` and `amps` (names and
separator configurable), equally spaced by dt_csv; the amplitudes are played into the
clamp every dt_csv from t = 0, so a first timestamp t0 > 0 is reached by prepending zeros:
one zero when t0 = dt_csv, else every step refined to gcd(dt_csv, t0) (integers) and
t0 / gcd zeros first; the clamp stays on until the last timestamp, or one dt_csv after it
when the last amplitude is not zero.
"""

import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .bmtk_config import Context
from .bmtk_json import absolute

STEP_KEYS = ("amp", "delay", "duration")


def current_clamps(name, entry, ctx) -> dict:
    input_type = entry.get("input_type", "current_clamp")
    key = f"inputs.{name}"
    if input_type in ("csv", "file"):
        return {name: _played(name, entry, ctx, key)}
    if input_type in ("nwb", "allen"):
        raise ConfigError(f"bmtk's IClamp input_type '{input_type}' (a sweep of an NWB file) "
                          "is not supported", file=ctx.config_file, key=f"{key}.input_type")
    lists = [k for k in STEP_KEYS if isinstance(entry.get(k), list)]
    if not lists:
        return {name: entry}
    steps = [entry[k] if isinstance(entry.get(k), list) else [entry.get(k)]
             for k in STEP_KEYS]
    if len({len(s) for s in steps}) != 1:
        raise ConfigError("amp, delay and duration given as lists must have one length",
                          file=ctx.config_file, key=f"{key}.{lists[0]}")
    ctx.leniencies.add(f"{key}.{lists[0]}", "lists of amp, delay, duration: one clamp per "
                                             "step (bmtk)")
    return {f"{name}[{i}]": {**entry, "amp": amp, "delay": delay, "duration": duration}
            for i, (amp, delay, duration) in enumerate(zip(*steps))}


def _played(name, entry, ctx, key) -> dict:
    file = entry.get("file")
    if not isinstance(file, str):
        raise ConfigError("missing mandatory key (the CSV of timestamps and amps)",
                          file=ctx.config_file, key=f"{key}.file")
    path = Path(absolute(file, ctx.config_dir))
    times, amps = _read_csv(path, entry, f"{key}.file")
    dts = np.unique(np.diff(times))
    if len(dts) != 1:
        raise ConfigError("the timestamps must be equally spaced", file=path, key=f"{key}.file")
    dt, start = float(dts[0]), float(times[0])
    ends = [float(times[-1])]
    if start < 0:
        raise ConfigError("the first timestamp must not be negative", file=path,
                          key=f"{key}.file")
    if start > 0:
        if start - dt == 0.0:
            amps = np.concatenate(([0.0], amps))
        else:
            step = math.gcd(int(dt), int(start))
            if step == 0:
                raise ConfigError("timestamps must be whole milliseconds", file=path,
                                  key=f"{key}.file")
            amps = np.concatenate((np.zeros(int(start / step)),
                                   np.repeat(amps, int(dt) // step)))
            dt = float(step)
    stop = ends[0] + dt if amps[-1] != 0 else ends[0]
    ctx.leniencies.add(f"{key}.input_type", f"bmtk's CSV clamp: {len(amps)} amplitudes played "
                                            f"every {dt} ms")
    out = {k: v for k, v in entry.items()
           if k not in ("file", "separator", "timestamps_column", "amplitudes_column")}
    out.update(input_type="current_clamp", amp=0.0, delay=0.0, duration=stop,
               played_amps=[float(a) for a in amps], played_dt=dt)
    return out


def _read_csv(path: Path, entry, key):
    if not path.is_file():
        raise ConfigError(f"{path} not found", key=key)
    separator = entry.get("separator", " ")
    columns = (entry.get("timestamps_column", "timestamps"),
               entry.get("amplitudes_column", "amps"))
    rows = [line.split(separator) if separator != " " else line.split()
            for line in path.read_text().splitlines() if line.strip()]
    header = [h.strip() for h in rows[0]] if rows else []
    for column in columns:
        if column not in header:
            raise ConfigError(f"no column '{column}'", file=path, key=key)
    try:
        values = np.asarray([[float(row[header.index(c)]) for c in columns]
                             for row in rows[1:]])
    except (ValueError, IndexError) as error:
        raise ConfigError(f"not a table of numbers: {error}", file=path, key=key) from None
    if len(values) < 2:
        raise ConfigError("needs two rows or more", file=path, key=key)
    return values[:, 0], values[:, 1]


def voltage_clamps(name, entry, ctx) -> dict:
    """bmtk's SEClamp (facts of bmtk 1.2): `amps` and `durations` are one value or a list;
    a list of one, or a scalar, is one set for every cell, a longer list one set per cell
    in the order of the cells (`gids`, bmtk gids, else the node set's); each set is one
    value for the three levels or three values. `rs` likewise (one for all, or one per
    cell). The clamp sits at soma(0.5) from t = 0."""
    key = f"inputs.{name}"
    amps, durations, rs = (_as_list(entry.get(k)) for k in ("amps", "durations", "rs"))
    for given, field in ((amps, "amps"), (durations, "durations")):
        if not given:
            raise ConfigError("missing mandatory key", file=ctx.config_file,
                              key=f"{key}.{field}")
    gids = entry.get("gids")
    per_cell = max(len(amps), len(durations), len(rs or [None]))
    common = {k: v for k, v in entry.items() if k not in ("amps", "durations", "rs", "gids")}
    common.update(input_type="voltage_clamp", delay=0.0)
    common.setdefault("node_set", "all")
    ctx.leniencies.add(f"{key}.module", "bmtk's SEClamp: NEURON's SEClamp of three levels at "
                                        "the soma")
    if gids is not None and not isinstance(gids, list):
        gids = [gids]
    if per_cell == 1:
        if gids is not None:
            common["node_set"] = _gid_set(gids, ctx, f"{key}.gids")
        return {name: _clamp(common, amps[0], durations[0], rs[0] if rs else None,
                             ctx, key)}
    if gids is None:
        raise ConfigError("one set of amps/durations per cell needs the cells listed in "
                          "'gids' (bmtk gids)", file=ctx.config_file, key=f"{key}.amps")
    for values, field in ((amps, "amps"), (durations, "durations"), (rs, "rs")):
        if values and len(values) not in (1, len(gids)):
            raise ConfigError(f"has {len(values)} values for {len(gids)} gids (one, or one "
                              "per gid)", file=ctx.config_file, key=f"{key}.{field}")
    ctx.leniencies.add(f"{key}.gids", f"bmtk's SEClamp: one clamp on each of {len(gids)} "
                                      "cells")
    out = {}
    def pick(values, index):
        return values[index if len(values) > 1 else 0] if values else None

    for index, gid in enumerate(gids):
        node_set = _gid_set([gid], ctx, f"{key}.gids[{index}]")
        out[f"{name}[{index}]"] = _clamp({**common, "node_set": node_set}, pick(amps, index),
                                         pick(durations, index), pick(rs, index), ctx, key)
    return out


def _gid_set(gids: list, ctx, key: str) -> str:
    """A node set of bmtk gids, added to the config's node sets."""
    return Context(ctx.config_file, ctx.leniencies, ctx.extra_sets,
                   ctx.sizes).node_set_name(gids, key)


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _levels(value, ctx, key) -> list:
    values = value if isinstance(value, list) else [value] * 3
    if len(values) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                   for v in values):
        raise ConfigError(f"must be a number or a list of three numbers, got {value!r}",
                          file=ctx.config_file, key=key)
    return [float(v) for v in values]


def _clamp(common, amps, durations, rs, ctx, key) -> dict:
    out = {**common, "amps": _levels(amps, ctx, f"{key}.amps"),
           "durations": _levels(durations, ctx, f"{key}.durations")}
    out["duration"] = sum(out["durations"])
    if rs is not None:
        out["rs"] = rs
    return out
