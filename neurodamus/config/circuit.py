"""The circuit config: node and edge populations with their files and components."""

import json
from pathlib import Path

import libsonata

from ..hdf5_files import hdf5_problem
from .checks import ProblemList, libsonata_reason
from .known_keys import circuit_type_problems
from .settings import CircuitSettings, EdgePopulationSettings, NodePopulationSettings

# Formats of components.alternate_morphologies, and the file extension each stands for.
MORPHOLOGY_FORMATS = {"neurolucida-asc": ".asc", "h5v1": ".h5"}


def _optional_dir(value) -> Path | None:
    return Path(value) if value else None


def _node_populations(config, problems: ProblemList, config_file: Path):
    populations = []
    hdf5_checks = _Hdf5Checks(problems, config_file)
    order = _config_order(config_file)
    for name in sorted(config.node_populations,
                       key=lambda n: (order.index(n) if n in order else len(order), n)):
        props = config.node_population_properties(name)
        nodes_file = Path(props.elements_path)
        if not nodes_file.is_file():
            problems.add(f"nodes file {nodes_file} not found for population '{name}'",
                         key="networks.nodes.nodes_file", file=config_file)
        else:
            hdf5_checks.readable(nodes_file, "nodes", name, "networks.nodes.nodes_file")
        populations.append(NodePopulationSettings(
            name=name, type=props.type, nodes_file=nodes_file,
            morphologies_dir=_optional_dir(props.morphologies_dir),
            alternate_morphologies={k: Path(v)
                                    for k, v in props.alternate_morphology_formats.items()},
            models_dir=_optional_dir(props.biophysical_neuron_models_dir),
            mechanisms_dir=_optional_dir(getattr(props, "mechanisms_dir", None)),
        ))
    return populations


def _config_order(config_file: Path) -> list[str]:
    """Node population names in circuit-config order, which fixes the gid offsets."""
    raw = json.loads(config_file.read_text())
    order = []
    for entry in raw.get("networks", {}).get("nodes", []):
        order.extend(entry.get("populations", {}).keys())
    return order


def edge_config_order(config_file: Path) -> list[str]:
    """Edge population names in circuit-config order (entries in order, the populations of
    one entry by name, as their HDF5 file lists them)."""
    raw = json.loads(config_file.read_text())
    order = []
    for entry in raw.get("networks", {}).get("edges", []):
        order.extend(sorted(entry.get("populations", {})))
    return order


class _Hdf5Checks:
    """Each nodes or edges file looked at once before libsonata opens it (its HDF5 prints
    its error stack on stderr); a bad file is one problem however many populations it
    holds."""

    def __init__(self, problems: ProblemList, config_file: Path):
        self.problems, self.config_file = problems, config_file
        self.found: dict[Path, str | None] = {}

    def readable(self, path: Path, kind: str, population: str, key: str) -> bool:
        if path not in self.found:
            self.found[path] = problem = hdf5_problem(path)
            if problem is not None:
                self.problems.add(f"{kind} file {path} {problem} (population '{population}')",
                                  key=key, file=self.config_file)
        return self.found[path] is None


def _edge_populations(config, problems: ProblemList, config_file: Path, node_names):
    populations = []
    hdf5_checks = _Hdf5Checks(problems, config_file)
    for name in sorted(config.edge_populations):
        props = config.edge_population_properties(name)
        edges_file = Path(props.elements_path)
        if not edges_file.is_file():
            problems.add(f"edges file {edges_file} not found for population '{name}'",
                         key="networks.edges.edges_file", file=config_file)
            continue
        if not hdf5_checks.readable(edges_file, "edges", name, "networks.edges.edges_file"):
            continue
        try:
            edges = config.edge_population(name)
            source, target = edges.source, edges.target
        except (libsonata.SonataError, RuntimeError) as error:
            problems.add(f"cannot read edge population '{name}': {error}",
                         key="networks.edges", file=edges_file)
            continue
        for end, population in (("source", source), ("target", target)):
            if population not in node_names:
                problems.add(f"edge population '{name}' has {end} population '{population}' "
                             "that is not in the circuit", key="networks.edges", file=edges_file)
        populations.append(EdgePopulationSettings(name=name, type=props.type, edges_file=edges_file,
                                                  source=source, target=target))
    return populations


# Kinds of populations the driver has no engine for, and what they would need.
NOT_SUPPORTED_TYPES = {"astrocyte": "astrocytes (the neuro-glia-vascular engine)",
                       "vasculature": "vasculature (the neuro-glia-vascular engine)"}


def _check_supported(nodes, problems: ProblemList, config_file: Path):
    """Populations of a kind no cell engine builds are refused here, before anything runs,
    rather than silently left out (their edges would change the physics)."""
    from ..cells.engines import supported_model_types

    supported = supported_model_types()
    for population in nodes:
        if population.type in supported:
            continue
        what = NOT_SUPPORTED_TYPES.get(population.type, f"node populations of type "
                                                        f"'{population.type}'")
        problems.add(f"population '{population.name}' is of type '{population.type}': "
                     f"{what} not supported (supported types: {', '.join(sorted(supported))})",
                     key="networks.nodes.populations.type", file=config_file)


def load_circuit_settings(config_file: Path, problems: ProblemList) -> CircuitSettings | None:
    """Read the circuit config; problems go to `problems` (None if it cannot be read at all)."""
    if not config_file.is_file():
        problems.add(f"circuit config {config_file} not found", key="network")
        return None
    try:
        config = libsonata.CircuitConfig.from_file(str(config_file))
    except (libsonata.SonataError, RuntimeError) as error:
        # libsonata's type errors name no key: look for the value ourselves first.
        try:
            typed = circuit_type_problems(json.loads(config_file.read_text()))
        except (json.JSONDecodeError, UnicodeDecodeError):
            typed = []
        for key, message in typed:
            problems.add(message, key=key, file=config_file)
        if not typed:
            problems.add(libsonata_reason(error), file=config_file)
        return None
    nodes = _node_populations(config, problems, config_file)
    _check_supported(nodes, problems, config_file)
    edges = _edge_populations(config, problems, config_file, {p.name for p in nodes})
    mechanisms = sorted({p.mechanisms_dir for p in nodes if p.mechanisms_dir})
    for directory in mechanisms:
        if not directory.is_dir():
            problems.add(f"mechanisms directory {directory} not found",
                         key="components.mechanisms_dir", file=config_file)
    return CircuitSettings(config_file=config_file, node_populations=tuple(nodes),
                           edge_populations=tuple(edges), mechanisms_dirs=tuple(mechanisms))
