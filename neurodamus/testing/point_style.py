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

import h5py
import libsonata
import numpy as np

from ..hdf5_files import stamp_sonata
from .circuit_builder import _string_dataset, write_circuit_config
from .morphologies import MorphologyLayout, write_pyramidal

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


def _column(value, count: int):
    if isinstance(value, str):
        return [value] * count
    array = np.asarray(value)
    return np.full(count, array.item()) if array.ndim == 0 else array


def _write(group, name: str, value, count: int, order=None):
    data = _column(value, count)
    if order is not None:
        data = [data[i] for i in order] if isinstance(data, list) else np.asarray(data)[order]
    if isinstance(data, list) or (isinstance(data, np.ndarray) and data.dtype.kind in "OUS"):
        _string_dataset(group, name, [str(v) for v in data])
    else:
        group.create_dataset(name, data=np.asarray(data))


def build_point_style_circuit(directory, nodes: list[Nodes], edges: list[Edges],
                              seed: int = 1) -> Path:
    """Write nodes.h5, one edges file per population, morphologies for the hoc: cells and
    the circuit config into `directory`; returns the circuit config's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    layouts: dict[str, MorphologyLayout] = {}
    with h5py.File(directory / "nodes.h5", "w") as f:
        stamp_sonata(f)
        for spec in nodes:
            group = f.create_group(f"nodes/{spec.name}")
            group.create_dataset("node_type_id", data=np.full(spec.size, -1, np.int64))
            group.create_dataset("node_group_id", data=np.zeros(spec.size, np.int64))
            group.create_dataset("node_group_index", data=np.arange(spec.size, dtype=np.int64))
            attrs = group.create_group("0")
            _string_dataset(attrs, "model_type", [spec.type] * spec.size)
            if spec.model != "virtual":
                _string_dataset(attrs, "model_template", [spec.model] * spec.size)
            if spec.model.startswith("hoc:"):
                (directory / "morphologies").mkdir(exist_ok=True)
                layout = layouts.setdefault(spec.name, write_pyramidal(
                    directory / "morphologies" / f"{spec.name}_morph.swc", rng))
                _string_dataset(attrs, "morphology", [layout.name] * spec.size)
            for name, value in spec.attributes.items():
                _write(attrs, name, value, spec.size)
            if spec.dynamics:
                dynamics = attrs.create_group("dynamics_params")
                for name, value in spec.dynamics.items():
                    _write(dynamics, name, value, spec.size)
    sizes = {spec.name: spec.size for spec in nodes}
    for edge_spec in edges:
        _write_edges(directory, edge_spec, sizes)
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


def _write_edges(directory: Path, spec: Edges, sizes: dict):
    sources, targets = np.asarray(spec.sources, np.int64), np.asarray(spec.targets, np.int64)
    order = np.lexsort((sources, targets))
    count = sources.size
    path = directory / f"edges_{spec.name}.h5"
    with h5py.File(path, "w") as f:
        stamp_sonata(f)
        group = f.create_group(f"edges/{spec.name}")
        group.create_dataset("source_node_id", data=sources[order].astype(np.uint64))
        group["source_node_id"].attrs["node_population"] = spec.source
        group.create_dataset("target_node_id", data=targets[order].astype(np.uint64))
        group["target_node_id"].attrs["node_population"] = spec.target
        group.create_dataset("edge_type_id", data=np.full(count, -1, np.int64))
        group.create_dataset("edge_group_id", data=np.zeros(count, np.int64))
        group.create_dataset("edge_group_index", data=np.arange(count, dtype=np.uint64))
        values = group.create_group("0")
        for name, value in spec.attributes.items():
            _write(values, name, value, count, order)
        if spec.dynamics:
            dynamics = values.create_group("dynamics_params")
            for name, value in spec.dynamics.items():
                _write(dynamics, name, value, count, order)
    libsonata.EdgePopulation.write_indices(str(path), spec.name, sizes[spec.source],
                                           sizes[spec.target])
