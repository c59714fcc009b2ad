"""Small strict-SONATA circuits in the Allen/bmtk conventions, as the normaliser leaves them:
point neurons (population type point_process, model_template nrn:IntFire1, dynamics in
seconds as `dynamics_params/<key>`), virtual sources, biophysical cells of our own
templates, and single-group edge populations with `model_template`, `syn_weight`,
`delay`, `nsyns`, `weight_function`, `dynamics_params/<key>` and either afferent
locations or target_sections / distance_range.

Callers give every value explicitly (arrays per node or edge, or one scalar for all), so
tests know exactly what the files hold; `unique_pairs` draws connectivity.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .circuit_builder import write_circuit_config
from .morphologies import MorphologyLayout, write_pyramidal
from .sonata_files import edge_indices, sonata_file, write_edge_population, write_node_population

POPULATION_TYPES = {"virtual": "virtual", "nrn": "point_process", "hoc": "biophysical"}


@dataclass(frozen=True)
class Nodes:
    """`model`: "virtual", "nrn:IntFire1" (or another nrn: model) or "hoc:NdExcCell"."""

    name: str
    size: int
    model: str
    dynamics: dict = field(default_factory=dict)  # dynamics_params/<key> -> scalar or array
    attributes: dict = field(default_factory=dict)  # plain attributes -> scalar or array
    population_type: str | None = None  # default from the model's schema (POPULATION_TYPES)

    @property
    def type(self) -> str:
        schema = "virtual" if self.model == "virtual" else self.model.partition(":")[0]
        return self.population_type or POPULATION_TYPES[schema]


@dataclass(frozen=True)
class Edges:
    """Edges `sources[k]` -> `targets[k]`; values per edge (arrays) or one for all."""

    name: str
    source: str
    target: str
    sources: np.ndarray
    targets: np.ndarray
    attributes: dict = field(default_factory=dict)
    dynamics: dict = field(default_factory=dict)


def unique_pairs(rng, n_sources: int, n_targets: int, per_target: int,
                 no_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """`per_target` distinct sources for every target (never the target itself if
    `no_self`), as (sources, targets)."""
    sources, targets = [], []
    for target in range(n_targets):
        pool = [s for s in range(n_sources) if not (no_self and s == target)]
        sources.extend(rng.choice(pool, size=per_target, replace=False).tolist())
        targets.extend([target] * per_target)
    return np.asarray(sources, np.int64), np.asarray(targets, np.int64)


def build_point_style_circuit(directory, nodes: list[Nodes], edges: list[Edges],
                              seed: int = 1) -> Path:
    """Write nodes.h5, one edges file per population, morphologies for the hoc: cells and
    the circuit config into `directory`; returns the circuit config's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    layouts: dict[str, MorphologyLayout] = {}
    with sonata_file(directory / "nodes.h5") as f:
        for spec in nodes:
            attributes: dict[str, Any] = {"model_type": spec.type}
            if spec.model != "virtual":
                attributes["model_template"] = spec.model
            if spec.model.startswith("hoc:"):
                (directory / "morphologies").mkdir(exist_ok=True)
                layout = layouts.setdefault(spec.name, write_pyramidal(
                    directory / "morphologies" / f"{spec.name}_morph.swc", rng))
                attributes["morphology"] = layout.name
            write_node_population(f, spec.name, spec.size, {**attributes, **spec.attributes},
                                  spec.dynamics or None)
    sizes = {spec.name: spec.size for spec in nodes}
    for edge_spec in edges:
        write_edges(directory, edge_spec, sizes)
    populations = {}
    for spec in nodes:
        entry = {"type": spec.type}
        if spec.model.startswith("hoc:"):
            entry["morphologies_dir"] = "$BASE_DIR/morphologies"
        populations[spec.name] = entry
    sets: dict[str, Any] = {spec.name: {"population": spec.name} for spec in nodes}
    sets["All"] = [spec.name for spec in nodes if spec.type != "virtual"]
    (directory / "node_sets.json").write_text(json.dumps(sets, indent=2))
    (directory / "emodels").mkdir(exist_ok=True)
    return write_circuit_config(
        directory, {"biophysical_neuron_models_dir": "$BASE_DIR/emodels"},
        [("nodes.h5", populations)],
        [(f"edges_{spec.name}.h5", {spec.name: {"type": "chemical"}}) for spec in edges])


def write_edges(directory: Path, spec: Edges, sizes: dict) -> None:
    """`directory`/edges_<name>.h5: the edge population, sorted, with its indices; `sizes`
    gives each node population's size."""
    path = directory / f"edges_{spec.name}.h5"
    with sonata_file(path) as f:
        write_edge_population(f, spec.name, spec.source, spec.target,
                              np.asarray(spec.sources, np.int64),
                              np.asarray(spec.targets, np.int64), spec.attributes,
                              spec.dynamics or None)
    edge_indices(path, spec.name, sizes[spec.source], sizes[spec.target])
