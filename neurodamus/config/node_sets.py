"""Node sets: the circuit's file first, then the simulation's, which wins on name clashes."""

from pathlib import Path

import libsonata

from .checks import ProblemList


def load_node_sets(config, circuit, problems: ProblemList):
    """Returns (file named in messages, merged libsonata.NodeSets) or (None, None)."""
    files = []
    if circuit is not None:
        try:
            circuit_path = libsonata.CircuitConfig.from_file(str(circuit.config_file)).node_sets_path
        except (libsonata.SonataError, RuntimeError):
            circuit_path = ""
        if circuit_path:
            files.append(("node_sets_file", circuit.config_file, Path(circuit_path)))
    if config.node_sets_file:
        files.append(("node_sets_file", None, Path(config.node_sets_file)))
    merged, last_file = None, None
    for key, owner, path in files:
        if not path.is_file():
            problems.add(f"node sets file {path} not found", key=key, file=owner)
            continue
        try:
            node_sets = libsonata.NodeSets.from_file(str(path))
        except (libsonata.SonataError, RuntimeError) as error:
            problems.add(f"invalid node sets: {error}", file=path)
            continue
        if merged is None:
            merged = node_sets
        else:
            merged.update(node_sets)
        last_file = path
    return last_file, merged


def check_node_sets(node_sets, node_sets_file, used: dict, circuit, problems: ProblemList):
    """Every node set the simulation uses must exist and name only populations of the circuit."""
    if circuit is None:
        return
    known_populations = {p.name for p in circuit.node_populations}
    names = set(node_sets.names)
    for key, name in used.items():
        if name not in names:
            problems.add(f"node set '{name}' is not defined in {node_sets_file}", key=key)
            continue
        missing = node_sets.referenced_populations(name) - known_populations
        if missing:
            problems.add(f"node set '{name}' names population(s) {sorted(missing)} that the "
                         f"circuit {circuit.config_file} does not have", key=key, file=node_sets_file)
