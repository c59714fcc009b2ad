"""Config dialects: one reader per way of writing SONATA configs, each turning its configs
into the strict form that libsonata and the later phases read.

`DIALECTS` is asked in order; the first reader that recognises a simulation config reads
it. The strict SONATA reader (libsonata as it is) comes last and takes everything else.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..registry import Registry
from . import bmtk


@dataclass(frozen=True)
class ReadConfig:
    raw: dict | None  # the simulation config to give libsonata (None: the file as it is)
    base_dir: Path  # where its relative paths start
    config_file: Path  # the file that holds the simulation (bmtk's wrapper names another)
    leniencies: tuple[str, ...] = ()  # one warning per leniency applied, naming the key
    dialect: str = "sonata"

    def for_libsonata(self, raw: dict) -> dict:
        """The config with stand-ins for the input modules libsonata does not know (the
        driver reads the inputs as written; libsonata checks the rest)."""
        inputs = raw.get("inputs")
        if not isinstance(inputs, dict):
            return raw
        stand_ins = {name: STAND_INS[entry["module"]](entry)
                     if isinstance(entry, dict) and entry.get("module") in STAND_INS else entry
                     for name, entry in inputs.items()}
        return {**raw, "inputs": stand_ins}


@dataclass(frozen=True)
class Dialect:
    name: str
    recognises: Callable  # (raw JSON, path) -> bool
    read: Callable  # (path, cache_root, may_write) -> (raw, base dir, config file, leniencies)


# Input modules of other simulators that the driver implements itself: what libsonata is
# shown instead (a module of the same kind with the same target and window).
def _linear(entry: dict, dropped: tuple) -> dict:
    return {**{k: v for k, v in entry.items() if k not in dropped}, "module": "linear",
            "input_type": "current_clamp", "amp_start": entry.get("amp", 0.0)}


STAND_INS = {"IClamp": lambda entry: _linear(entry, ("amp",)),
    "xstim": lambda entry: _linear(entry, ("positions_file", "mesh_files_dir", "resistance",
                                           "waveform")),
    "SEClamp": lambda entry: {
        **{k: v for k, v in entry.items() if k not in ("amps", "durations", "rs")},
        "module": "seclamp", "voltage": (entry.get("amps") or [0.0])[0]}}

DIALECTS: Registry[str, Dialect] = Registry("config dialect", "the simulation config")
DIALECTS.register("bmtk", Dialect("bmtk", bmtk.recognises, bmtk.read))


def read_simulation_config(path: Path, cache_root: Path, may_write: bool = True) -> ReadConfig:
    """The simulation config at `path` in strict form. `may_write`: whether this process
    writes the strict copies a dialect needs (under MPI only rank 0 does, first)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        raw = None  # the strict reader names the problem
    dialect = None if raw is None else DIALECTS.first(lambda d: d.recognises(raw, path))
    if dialect is not None:
        rewritten, base_dir, config_file, leniencies = dialect.read(path, cache_root, may_write)
        return ReadConfig(rewritten, base_dir, config_file, leniencies, dialect.name)
    return ReadConfig(None, path.parent, path)
