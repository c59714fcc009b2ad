"""The bmtk dialect: configs and circuits as the Allen Institute examples and bmtk write
them, read the way bmtk reads them and rewritten into the strict form libsonata reads.

Each leniency is reported once, naming the key (see `Leniencies`). What is rewritten:
* bmtk's `config.json` wrapper (`{"network": ..., "simulation": ...}`);
* manifests, with `${configdir}`, expanded here (all paths made absolute);
* a missing `run.random_seed` (0), `spikes_sort_order` `time`/`id`;
* spike inputs of modules h5 / sonata / csv as `synapse_replay` (their `node_set` names the
  source population; they reach every cell), `membrane_report` reports as compartment
  reports, `extracellular` reports as extracellular (ECP) reports;
* circuits whose node or edge files rely on type tables, list no populations, have several
  groups or no edges: a strict copy is written (strict_copy.py) and opened instead.
"""

import json
from pathlib import Path

from ..errors import ConfigError
from .bmtk_circuit import circuit_needs_copy, population_sizes, strict_circuit
from .bmtk_config import Context, apply_rewrites, needs_rewrite
from .bmtk_inputs import INPUT_MODULES, inputs_and_reports, replay_edges
from .bmtk_json import Leniencies, absolute, expand, expanded_path, manifest_values, read_json
from .bmtk_spont import spont_suffix

SORT_ORDERS = {"time": "by_time", "id": "by_id", "gid": "by_id", "by_gid": "by_id"}


def recognises(raw: dict, path: Path) -> bool:
    """Whether a simulation config needs this dialect (libsonata alone would reject it)."""
    if not isinstance(raw, dict):
        return False
    if isinstance(raw.get("simulation"), str) and "run" not in raw:
        return True  # the config.json wrapper
    run = raw.get("run")
    if isinstance(run, dict) and "random_seed" not in run:
        return True
    output = raw.get("output")
    if isinstance(output, dict) and output.get("spikes_sort_order") in SORT_ORDERS:
        return True
    if "${configdir}" in json.dumps(raw.get("manifest", {})):
        return True
    for entry in (raw.get("inputs") or {}).values():
        if isinstance(entry, dict) and entry.get("module") in INPUT_MODULES:
            return True
    for entry in (raw.get("reports") or {}).values():
        if isinstance(entry, dict) and "type" not in entry and "module" in entry:
            return True
    if needs_rewrite(raw):
        return True
    network = raw.get("network")
    if isinstance(network, str):
        circuit_file = expanded_path(network, raw, path.parent)
        if circuit_file.is_file():
            return circuit_needs_copy(read_json(circuit_file, "network"))
    return False


# -- the simulation config ----------------------------------------------------------------

def read(path: Path, cache_root: Path, may_write: bool):
    """(rewritten simulation config, its directory, the circuit config to open, leniencies)."""
    leniencies = Leniencies()
    raw = read_json(path)
    config_file = path
    if isinstance(raw.get("simulation"), str) and "run" not in raw:
        simulation = Path(absolute(raw["simulation"], path.parent))
        leniencies.add("simulation", f"bmtk's config wrapper: the simulation is {simulation}")
        inner = read_json(simulation, "simulation")
        if "network" not in inner and isinstance(raw.get("network"), str):
            inner["network"] = absolute(raw["network"], path.parent)
        raw, config_file = inner, simulation
    config_dir = config_file.parent
    if "${configdir}" in json.dumps(raw.get("manifest", {})):
        leniencies.add("manifest", "${configdir} read as the config's directory (bmtk)")
    values = manifest_values(raw, config_dir, config_file)
    raw = expand({k: v for k, v in raw.items() if k != "manifest"}, values, config_file)
    context = Context(config_file, leniencies)
    raw = apply_rewrites(raw, "config", context)
    if not isinstance(raw.get("network"), str) and isinstance(raw.get("networks"), dict):
        raw["network"] = str(config_file)
        leniencies.add("networks", "the simulation config holds the circuit too (bmtk)")
    if not isinstance(raw.get("network"), str):
        raise ConfigError("no 'network' (the circuit config): with bmtk, run the config.json "
                          "that names both the network and the simulation", file=config_file,
                          key="network")
    raw["network"] = absolute(raw["network"], config_dir)
    run = raw.get("run")
    if isinstance(run, dict) and "random_seed" not in run:
        raw["run"] = {**run, "random_seed": 0}
        leniencies.add("run.random_seed", "missing: 0 is used")
    output = raw.get("output")
    if isinstance(output, dict):
        order = output.get("spikes_sort_order")
        if order in SORT_ORDERS:
            output = {**output, "spikes_sort_order": SORT_ORDERS[order]}
            leniencies.add("output.spikes_sort_order", f"'{order}' read as "
                                                       f"'{SORT_ORDERS[order]}'")
        for key in ("spikes_file_nwb",):
            if key in output:
                output = {k: v for k, v in output.items() if k != key}
                leniencies.add(f"output.{key}", "not written (the spikes are in spikes_file)")
        raw["output"] = output
    replays = replay_edges(raw, config_file, config_dir)
    circuit_file, populations = strict_circuit(Path(raw["network"]), cache_root, may_write,
                                               leniencies, replays,
                                               spont_suffix(raw, config_file))
    raw["network"] = str(circuit_file)
    context.sizes = population_sizes(circuit_file, populations)
    raw = apply_rewrites(raw, "nodes", context)
    raw = inputs_and_reports(raw, config_file, config_dir, populations, cache_root, may_write,
                              leniencies, context.extra_sets, context.sizes)
    return raw, config_dir, config_file, tuple(leniencies.items)
