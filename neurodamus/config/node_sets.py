"""Node sets: the circuit's file first, then the simulation's, which wins on name clashes."""

import json
from pathlib import Path

import libsonata

from ..hdf5_files import quiet_stderr
from ..validation import check_node_set_ids, is_empty_as_written, node_set_cycle
from .checks import ProblemList, libsonata_reason


def load_node_sets(config, circuit, problems: ProblemList):
    """Returns (file named in messages, merged libsonata.NodeSets, merged JSON) or (None,
    None, "{}"). The JSON is the files' own, merged: libsonata's toJSON drops an empty
    `node_id` list, so that `{"population": "exc", "node_id": []}` would come back as all
    of `exc`; parsed again from the files' text it selects nothing, as written."""
    files = []
    if circuit is not None:
        try:
            circuit_config = libsonata.CircuitConfig.from_file(str(circuit.config_file))
            circuit_path = circuit_config.node_sets_path
        except (libsonata.SonataError, RuntimeError):
            circuit_path = ""
        if circuit_path:
            files.append(("node_sets_file", circuit.config_file, Path(circuit_path)))
    # libsonata gives the circuit's file as the simulation's when the simulation names none:
    # read it once (and report a problem in it once).
    if config.node_sets_file and Path(config.node_sets_file) not in [f[2] for f in files]:
        files.append(("node_sets_file", None, Path(config.node_sets_file)))
    merged, last_file = None, None
    merged_raw: dict = {}
    for key, owner, path in files:
        if not path.is_file():
            problems.add(f"node sets file {path} not found", key=key, file=owner)
            continue
        try:
            raw = json.loads(path.read_text())
        except (ValueError, OSError):
            raw = None  # libsonata says what is wrong, below
        if isinstance(raw, dict):
            # cycles named (libsonata says only "recursion depth exceeded"), also those that
            # the simulation's node sets close with the circuit's
            cycle = node_set_cycle({**merged_raw, **raw})
            if cycle is not None:
                across = " (across the circuit's and the simulation's files)" \
                    if node_set_cycle(raw) is None else ""
                problems.add(f"node sets {' -> '.join(repr(n) for n in cycle)} include each "
                             f"other: a cycle{across}", file=path)
                continue
        try:
            node_sets = libsonata.NodeSets.from_file(str(path))
        except (libsonata.SonataError, RuntimeError) as error:
            problems.add(f"invalid node sets: {libsonata_reason(error)}", file=path)
            continue
        merged_raw.update(raw if isinstance(raw, dict) else json.loads(node_sets.toJSON()))
        if merged is None:
            merged = node_sets
        else:
            merged.update(node_sets)
        last_file = path
    return last_file, merged, json.dumps(merged_raw) if merged is not None else "{}"


def check_node_sets(node_sets, node_sets_file, used: dict, circuit, problems: ProblemList,
                    raw_json: str = "{}", warnings: list[str] | None = None):
    """Every node set the simulation uses must exist and name only populations of the circuit.
    One written to select nothing (`node_id: []`) is an error as the run's node set (nothing
    to simulate is never what was meant) and a warning elsewhere (that input, report or
    override does nothing)."""
    if circuit is None:
        return
    raw = json.loads(raw_json)
    for key, name in used.items():
        if not is_empty_as_written(raw, name):
            continue
        if key == "node_set":
            problems.add(f"node set '{name}' selects no cells (node_id is empty): nothing to "
                         "simulate", key=key)
        elif warnings is not None:
            warnings.append(f"{key}: node set '{name}' selects no cells (node_id is empty): "
                            "it does nothing")
    known_populations = {p.name for p in circuit.node_populations}
    names = set(node_sets.names)
    for key, name in used.items():
        if name not in names:
            problems.add(f"node set '{name}' is not defined in {node_sets_file}", key=key)
            continue
        missing = node_sets.referenced_populations(name) - known_populations
        if missing:
            problems.add(f"node set '{name}' names population(s) {sorted(missing)} that the "
                         f"circuit {circuit.config_file} does not have", key=key,
                         file=node_sets_file)
    for message in check_node_set_ids(json.loads(node_sets.toJSON()), used.values(),
                                      population_sizes(circuit)):
        problems.add(message, file=node_sets_file)


def population_sizes(circuit) -> dict[str, int]:
    """Node count of each population of the circuit whose nodes file opens (the others
    have their own message)."""
    sizes = {}
    for population in circuit.node_populations:
        try:
            with quiet_stderr():  # a bad file has its own message; no HDF5-DIAG stack
                storage = libsonata.NodeStorage(str(population.nodes_file))
                sizes[population.name] = storage.open_population(population.name).size
        except (libsonata.SonataError, RuntimeError):
            continue
    return sizes
