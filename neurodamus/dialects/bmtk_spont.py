"""bmtk's `syn_activity` input: the recurrent synapses fire on a schedule instead of on
their source cells' spikes.

The facts (bmtk 1.2, BioNet): with one `syn_activity` input, every synapse of an edge from
a non-virtual source whose node attributes match `precell_filter` (each key equal to the
value, or among the values of a list) is driven by one VecStim playing `timestamps` (ms),
with the edge's weight and delay; every other synapse from a non-virtual source gets
weight 0 (the source's spikes reach nothing). Edges from virtual sources (spike inputs,
replays) are unchanged. The input's `node_set` is not used: the schedule applies to the
whole network. bmtk keeps one filter and one schedule, so one such input is read here.

How it is built: each edge file whose sources are all non-virtual is read from virtual
copies of its sources (population + SPONT_COPY_SUFFIX, the strict copy writes them), and
the input becomes a synapse_replay of a spike file in which every matching source node
spikes at each timestamp. A non-matching source never spikes there, which is what a
weight of 0 does. The copies' edges are placed (bmtk_placement) where the recurrent edges
would be, so run-time placement draws in bmtk's order.
"""

import json
from pathlib import Path

import libsonata
import numpy as np

from ..connectivity.replay import SPONT_COPY_SUFFIX
from ..errors import ConfigError
from ..reports.spikes import write_spikes
from .bmtk_json import ALL_NODES, content_key

MODULE = "syn_activity"


def spont_suffix(raw: dict, config_file: Path) -> str:
    """SPONT_COPY_SUFFIX when the config has a syn_activity input ("" otherwise); two such
    inputs are an error (bmtk keeps one filter and one schedule)."""
    names = [name for name, entry in (raw.get("inputs") or {}).items()
             if isinstance(entry, dict) and entry.get("module") == MODULE]
    if len(names) > 1:
        raise ConfigError(f"bmtk reads one syn_activity input; found {len(names)} "
                          f"({', '.join(names)})", file=config_file, key=f"inputs.{names[1]}")
    return SPONT_COPY_SUFFIX if names else ""


def _timestamps(entry: dict, config_file: Path, key: str) -> np.ndarray:
    given = entry.get("timestamps")
    values = given if isinstance(given, list) else [given]
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                             and v >= 0 for v in values):
        raise ConfigError(f"must be a time or a list of times (ms, not negative), got "
                          f"{given!r}", file=config_file, key=f"{key}.timestamps")
    return np.sort(np.asarray(values, float))


def _filter(entry: dict, config_file: Path, key: str) -> dict:
    given = entry.get("precell_filter")
    if not isinstance(given, dict) or not given:
        raise ConfigError("missing mandatory key (the node attributes of the sources whose "
                          "synapses fire)", file=config_file, key=f"{key}.precell_filter")
    return given


def spont_activity(name, entry, ctx) -> dict:
    """The syn_activity input as a synapse_replay of its schedule (see the module text)."""
    key = f"inputs.{name}"
    times = _timestamps(entry, ctx.config_file, key)
    definition = _filter(entry, ctx.config_file, key)
    circuit = libsonata.CircuitConfig.from_file(str(ctx.raw["network"]))
    copies = [p for p in circuit.node_populations if p.endswith(SPONT_COPY_SUFFIX)]
    if not copies:
        ctx.leniencies.add(f"{key}.module", "bmtk's syn_activity: no edges from non-virtual "
                                            "sources, nothing to drive")
        return {}
    spikes = {}
    for copy in sorted(copies):
        population = circuit.node_population(copy[:-len(SPONT_COPY_SUFFIX)])
        missing = [k for k in definition if k not in population.attribute_names
                   and k not in ("node_id", "population")]
        if missing:
            raise ConfigError(f"the source population '{population.name}' has no attribute "
                              f"{missing[0]!r}", file=ctx.config_file,
                              key=f"{key}.precell_filter")
        try:
            node_sets = libsonata.NodeSets(json.dumps({"matching": definition}))
            ids = np.asarray(node_sets.materialize("matching", population).flatten(), np.int64)
        except (libsonata.SonataError, RuntimeError) as error:
            raise ConfigError(f"cannot select the sources: {error}", file=ctx.config_file,
                              key=f"{key}.precell_filter") from None
        spikes[copy] = (np.tile(times, ids.size), np.repeat(ids, times.size))
    selected = {copy: ids.tolist() for copy, (_, ids) in spikes.items()}
    out = ctx.cache_root / "spikes" / f"{content_key([], MODULE, times.tolist(), selected)}.h5"
    if ctx.may_write and not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        write_spikes(out, spikes, "none")
    matched = sum(int(np.unique(ids).size) for _, ids in spikes.values())
    ctx.leniencies.add(f"{key}.module", f"bmtk's syn_activity: the synapses of {matched} "
                                        f"source nodes fire at {times.size} times, those of "
                                        "other non-virtual sources never (the whole network; "
                                        "node_set not used)")
    ctx.replays = True
    tstop = ctx.raw.get("run", {}).get("tstop", 0.0)
    return {name: {"module": "synapse_replay", "input_type": "spikes", "spike_file": str(out),
                   "node_set": ALL_NODES, "delay": 0.0,
                   "duration": float(tstop) if isinstance(tstop, (int, float)) else tstop}}
