"""Generate small SONATA circuits (nodes, edges, morphologies, configs) of any size.

Used by the tests and by `python -m neurodamus.testing.example` to (re)create the
bundled example in configs/. Everything is drawn from one seeded generator, so the
same arguments always give the same circuit.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..resources import hoc_dir
from .morphologies import MorphologyLayout, write_interneuron, write_pyramidal
from .sonata_files import edge_indices, sonata_file, write_edge_population, write_node_population


@dataclass(frozen=True)
class PopulationSpec:
    """A node population: `kind` is 'exc' or 'inh' (biophysical, our templates) or 'virtual'."""

    name: str
    size: int
    kind: str
    threshold_current: float = 0.2
    holding_current: float = 0.0
    mini_frequencies: tuple[float, float] | None = None  # (exc, inh) Hz, as node attributes


@dataclass(frozen=True)
class EdgeSpec:
    """Chemical synapses from `source` onto every cell of `target`.

    `per_target` synapses per target cell, sources drawn uniformly (no autapses);
    `conductance` in nS; delays uniform in `delay` (ms).
    """

    source: str
    target: str
    per_target: int
    conductance: float
    delay: tuple[float, float] = (1.0, 3.0)
    name: str = ""

    @property
    def population(self) -> str:
        return self.name or f"{self.source}__{self.target}__chemical"


@dataclass(frozen=True)
class GapJunctionSpec:
    """`pairs` random soma-to-soma junctions within `population`, each written as two
    electrical edges (one per direction) with `conductance` nS."""

    population: str
    pairs: int
    conductance: float

    @property
    def name(self) -> str:
        return f"{self.population}__{self.population}__electrical"


@dataclass
class CircuitSpec:
    populations: list[PopulationSpec]
    edges: list[EdgeSpec] = field(default_factory=list)
    gap_junctions: list[GapJunctionSpec] = field(default_factory=list)
    node_sets: dict = field(default_factory=dict)
    seed: int = 1
    morphologies_per_kind: int = 3


TEMPLATES = {"exc": "NdExcCell", "inh": "NdFsCell"}
HOC_HELPER = "nd_morphology.hoc"  # our templates load_file it; the circuit's copies inline it
MORPHOLOGY_WRITERS = {"exc": write_pyramidal, "inh": write_interneuron}
# Tsodyks-Markram parameters by synapse kind (typical cortical values).
TM_PARAMETERS = {
    "exc": dict(syn_type_id=120, u_syn=0.5, depression_time=670.0, facilitation_time=17.0,
                decay_time=1.7, n_rrp_vesicles=2),
    "inh": dict(syn_type_id=10, u_syn=0.25, depression_time=700.0, facilitation_time=0.0,
                decay_time=8.0, n_rrp_vesicles=1),
}


class CircuitBuilder:
    """Writes one circuit into a directory; see `build_circuit`."""

    def __init__(self, directory: Path, spec: CircuitSpec):
        self.directory = Path(directory)
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)
        self.layouts: dict[str, list[MorphologyLayout]] = {}
        self.node_morphology: dict[str, np.ndarray] = {}  # population -> layout index per node

    def build(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "morphologies").mkdir(exist_ok=True)
        self._write_morphologies()
        self._write_templates()
        self._write_nodes()
        edge_files = [(edge.population, "chemical", self._write_edges(edge))
                      for edge in self.spec.edges]
        edge_files += [(gap.name, "electrical", self._write_gap_junctions(gap))
                       for gap in self.spec.gap_junctions]
        (self.directory / "node_sets.json").write_text(json.dumps(self._node_sets(), indent=2))
        return self._write_circuit_config(edge_files)

    def _kinds(self):
        return sorted({p.kind for p in self.spec.populations if p.kind != "virtual"})

    def _write_morphologies(self):
        for kind in self._kinds():
            writer = MORPHOLOGY_WRITERS[kind]
            self.layouts[kind] = [
                writer(self.directory / "morphologies" / f"{kind}_morph_{i}.swc", self.rng)
                for i in range(self.spec.morphologies_per_kind)
            ]

    def _write_templates(self):
        """The hoc templates the circuit uses, in its biophysical_neuron_models_dir (emodels/),
        so that `hoc:NdExcCell` resolves, as SONATA says, to a file there and other readers
        (bluepysnap, bluecellulab) find the cell model. Each file stands alone: the morphology
        helper it would load_file is written into it, because bluecellulab runs a template's
        text (renamed) rather than loading the file, so a relative load_file finds nothing."""
        (self.directory / "emodels").mkdir(exist_ok=True)
        helper = (hoc_dir() / HOC_HELPER).read_text()
        for kind in self._kinds():
            name = f"{TEMPLATES[kind]}.hoc"
            text = (hoc_dir() / name).read_text()
            loader = f'{{ load_file("{HOC_HELPER}") }}'
            if loader not in text:
                raise ValueError(f"{name} no longer loads {HOC_HELPER}: update the generator")
            standalone = text.replace(loader, f"// {HOC_HELPER}, written in so that this file "
                                              f"stands alone:\n{helper}")
            (self.directory / "emodels" / name).write_text(standalone)

    def _write_nodes(self):
        with sonata_file(self.directory / "nodes.h5") as f:
            for pop in self.spec.populations:
                if pop.kind == "virtual":
                    write_node_population(f, pop.name, pop.size, {"model_type": "virtual"})
                else:
                    attributes, dynamics = self._biophysical_attributes(pop)
                    write_node_population(f, pop.name, pop.size, attributes, dynamics)

    def _biophysical_attributes(self, pop: PopulationSpec) -> tuple[dict, dict]:
        """The node attributes of a population of our templates, and its dynamics_params."""
        n = pop.size
        morph_index = self.rng.integers(0, self.spec.morphologies_per_kind, n)
        self.node_morphology[pop.name] = morph_index
        attributes: dict[str, Any] = {axis: self.rng.uniform(0, 500, n) for axis in "xyz"}
        attributes["orientation_w"] = np.ones(n)
        attributes.update({f"orientation_{axis}": np.zeros(n) for axis in "xyz"})
        exc = pop.kind == "exc"
        attributes.update({
            "morphology": [self.layouts[pop.kind][i].name for i in morph_index],
            "model_template": f"hoc:{TEMPLATES[pop.kind]}",
            "model_type": "biophysical",
            "etype": "hh" if exc else "fs",
            "mtype": "PYR" if exc else "BC",
            "morph_class": "PYR" if exc else "INT",
            "synapse_class": "EXC" if exc else "INH",
        })
        if pop.mini_frequencies is not None:
            attributes["exc-mini_frequency"] = np.full(n, pop.mini_frequencies[0])
            attributes["inh-mini_frequency"] = np.full(n, pop.mini_frequencies[1])
        dynamics = {"threshold_current": np.full(n, pop.threshold_current),
                    "holding_current": np.full(n, pop.holding_current)}
        return attributes, dynamics

    def _population(self, name) -> PopulationSpec:
        return next(p for p in self.spec.populations if p.name == name)

    def _write_edges(self, edge: EdgeSpec) -> str:
        source, target = self._population(edge.source), self._population(edge.target)
        source_kind = "exc" if source.kind in ("exc", "virtual") else "inh"
        targets = np.repeat(np.arange(target.size), edge.per_target)
        sources = self.rng.integers(0, source.size, targets.size)
        if edge.source == edge.target:  # no autapses: shift self-connections by one
            same = sources == targets
            sources[same] = (sources[same] + 1) % source.size
        section_ids, positions = self._synapse_locations(target, targets, source_kind)
        n = targets.size
        conductance = edge.conductance * self.rng.uniform(0.5, 1.5, n)
        attributes = {
            "afferent_section_id": section_ids.astype(np.int32),
            "afferent_section_pos": positions.astype(np.float32),
            "conductance": conductance.astype(np.float32),
            "delay": self.rng.uniform(*edge.delay, n).astype(np.float32),
        }
        for key, value in TM_PARAMETERS[source_kind].items():
            attributes[key] = np.full(n, value, np.int32 if isinstance(value, int) else np.float32)
        return self._write_edge_file(edge.population, edge.source, edge.target, sources, targets,
                                     attributes, source.size, target.size)

    def _write_edge_file(self, name, source_population, target_population, sources, targets,
                         attributes: dict, n_sources: int, n_targets: int) -> str:
        """One SONATA edge population, sorted by (target, source), with its indices."""
        filename = f"edges_{name}.h5"
        with sonata_file(self.directory / filename) as f:
            write_edge_population(f, name, source_population, target_population, sources,
                                  targets, attributes)
        edge_indices(self.directory / filename, name, n_sources, n_targets)
        return filename

    def _write_gap_junctions(self, gap: GapJunctionSpec) -> str:
        size = self._population(gap.population).size
        first = self.rng.integers(0, size, gap.pairs)
        second = (first + self.rng.integers(1, size, gap.pairs)) % size  # never a self-junction
        sources = np.concatenate([first, second])
        targets = np.concatenate([second, first])
        n = sources.size
        attributes = {f"{end}_{field}": values for end in ("afferent", "efferent")
                      for field, values in (("section_id", np.zeros(n, np.int32)),
                                            ("section_pos", np.full(n, 0.5, np.float32)))}
        attributes["conductance"] = np.full(n, gap.conductance, np.float32)
        return self._write_edge_file(gap.name, gap.population, gap.population, sources, targets,
                                     attributes, size, size)

    def _synapse_locations(self, target: PopulationSpec, targets, source_kind):
        """Excitatory synapses on dendrites, inhibitory ones on the soma and basal dendrites."""
        layouts = self.layouts[target.kind]
        morph_of_target = self.node_morphology[target.name][targets]
        kinds = ("basal", "apical") if source_kind == "exc" else ("soma", "basal")
        section_ids = np.empty(targets.size, np.int64)
        draws = self.rng.random(targets.size)  # vectorised: one uniform draw per synapse
        for morph, layout in enumerate(layouts):
            mask = morph_of_target == morph
            candidates = np.concatenate([layout.section_ids(k) for k in kinds])
            section_ids[mask] = candidates[(draws[mask] * candidates.size).astype(np.int64)]
        positions = self.rng.uniform(0.05, 0.95, targets.size)
        positions[section_ids == 0] = 0.5
        return section_ids, positions

    def _node_sets(self) -> dict:
        sets: dict[str, Any] = {p.name: {"population": p.name} for p in self.spec.populations}
        biophysical = [p.name for p in self.spec.populations if p.kind != "virtual"]
        sets["All"] = biophysical
        sets.update(self.spec.node_sets)
        return sets

    def _write_circuit_config(self, edge_files) -> Path:
        node_populations = {
            p.name: {"type": "virtual" if p.kind == "virtual" else "biophysical"}
            for p in self.spec.populations
        }
        for pop in node_populations.values():
            if pop["type"] == "biophysical":
                pop["morphologies_dir"] = "$BASE_DIR/morphologies"
        return write_circuit_config(
            self.directory, {"biophysical_neuron_models_dir": "$BASE_DIR/emodels"},
            [("nodes.h5", node_populations)],
            [(filename, {name: {"type": kind}}) for name, kind, filename in edge_files])


def write_circuit_config(directory, components: dict, nodes: list[tuple[str, dict]],
                         edges: list[tuple[str, dict]]) -> Path:
    """`directory`/circuit_config.json, the one writer of the test circuits' configs:
    `nodes` and `edges` are (file relative to `directory`, {population: its properties}),
    the node sets in node_sets.json beside it."""
    config = {
        "version": 2,
        "manifest": {"$BASE_DIR": "."},
        "node_sets_file": "$BASE_DIR/node_sets.json",
        "components": components,
        "networks": {
            "nodes": [{"nodes_file": f"$BASE_DIR/{file}", "populations": populations}
                      for file, populations in nodes],
            "edges": [{"edges_file": f"$BASE_DIR/{file}", "populations": populations}
                      for file, populations in edges],
        },
    }
    path = Path(directory) / "circuit_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def build_circuit(directory, spec: CircuitSpec) -> Path:
    """Write the circuit described by `spec` into `directory`; returns the circuit config path."""
    return CircuitBuilder(Path(directory), spec).build()


def write_poisson_spikes(path, population: str, node_ids, rate: float, tstop: float,
                         seed: int = 0) -> Path:
    """A SONATA spike file of independent Poisson trains (rate in Hz) for replay inputs."""
    from ..reports.spikes import write_spikes

    rng = np.random.default_rng(seed)
    times, ids = [], []
    for node_id in node_ids:
        count = rng.poisson(rate * tstop / 1000.0)
        times.append(np.round(np.sort(rng.uniform(0, tstop, count)), 3))
        ids.append(np.full(count, node_id))
    write_spikes(path, {population: (np.concatenate(times), np.concatenate(ids))}, "by_time")
    return Path(path)


def write_simulation_config(directory, circuit_config, *, tstop=100.0, dt=0.025, node_set=None,
                            inputs=None, reports=None, output_dir="output", celsius=6.3,
                            v_init=-65.0, random_seed=1, extra=None) -> Path:
    """Write simulation_config.json next to (or away from) the circuit; returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "version": 2,
        "network": os.path.relpath(Path(circuit_config).resolve(), directory.resolve()),
        "run": {"tstop": tstop, "dt": dt, "random_seed": random_seed, "spike_threshold": -20},
        "conditions": {"celsius": celsius, "v_init": v_init},
        "output": {"output_dir": output_dir, "spikes_file": "out.h5"},
        "inputs": inputs or {},
        "reports": reports or {},
    }
    if node_set:
        config["node_set"] = node_set
    for key, value in (extra or {}).items():
        config[key] = value
    path = directory / "simulation_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path
