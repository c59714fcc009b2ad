"""Write small SONATA point-neuron networks (nodes, edges, node sets, spikes, configs) for tests.

Strict SONATA as libsonata reads it: one group per population, attributes and
`dynamics_params` in the HDF5 files, an enum `sorting` in the spike file.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ...hdf5_files import stamp_sonata


@dataclass
class PointPopulation:
    """`size` point neurons; `attributes` / `dynamics_params` map a name to a scalar or an array."""

    name: str
    size: int
    model_template: str = "nrn:IntFire1"
    model_type: str = "point_neuron"
    attributes: dict = field(default_factory=dict)
    dynamics_params: dict = field(default_factory=dict)


@dataclass
class Edges:
    """Edges `source_ids[i] -> target_ids[i]` with `syn_weight`; `delay` optional (ms)."""

    source: str
    target: str
    source_ids: np.ndarray
    target_ids: np.ndarray
    syn_weight: np.ndarray
    delay: np.ndarray | float | None = None  # per edge, or one for all

    @property
    def name(self) -> str:
        return f"{self.source}__{self.target}"


@dataclass
class PointNetworkSpec:
    populations: list[PointPopulation]
    virtual: dict[str, int] = field(default_factory=dict)        # name -> size
    edges: list[Edges] = field(default_factory=list)
    spikes: dict[str, tuple] = field(default_factory=dict)       # virtual pop -> (ids, times)
    node_sets: dict = field(default_factory=dict)
    tstop: float = 100.0
    dt: float = 0.025



def _column(value, size: int) -> np.ndarray:
    array = np.asarray(value)
    return np.full(size, array) if array.ndim == 0 else array


def _write_dataset(group: h5py.Group, name: str, values) -> None:
    if values.dtype.kind in "US":
        group.create_dataset(name, data=values.astype(object), dtype=h5py.string_dtype())
    else:
        group.create_dataset(name, data=values)


def write_nodes(path: Path, spec: PointNetworkSpec) -> None:
    with h5py.File(path, "w") as h5:
        stamp_sonata(h5)
        populations: list[tuple[str, int, PointPopulation | None]] = [
            (p.name, p.size, p) for p in spec.populations]
        populations += [(name, size, None) for name, size in spec.virtual.items()]
        for name, size, population in populations:
            group = h5.create_group(f"nodes/{name}")
            group["node_type_id"] = np.full(size, -1, dtype=np.int64)
            group["node_group_id"] = np.zeros(size, dtype=np.uint32)
            group["node_group_index"] = np.arange(size, dtype=np.uint64)
            attributes = group.create_group("0")
            if population is None:
                _write_dataset(attributes, "model_type", _column("virtual", size))
                continue
            _write_dataset(attributes, "model_type", _column(population.model_type, size))
            _write_dataset(attributes, "model_template", _column(population.model_template, size))
            for key, value in population.attributes.items():
                _write_dataset(attributes, key, _column(value, size))
            dynamics = attributes.create_group("dynamics_params")
            for key, value in population.dynamics_params.items():
                _write_dataset(dynamics, key, _column(value, size))


def write_edges(path: Path, spec: PointNetworkSpec) -> None:
    with h5py.File(path, "w") as h5:
        stamp_sonata(h5)
        for edges in spec.edges:
            group = h5.create_group(f"edges/{edges.name}")
            count = len(edges.source_ids)
            group["source_node_id"] = np.asarray(edges.source_ids, dtype=np.uint64)
            group["source_node_id"].attrs["node_population"] = edges.source
            group["target_node_id"] = np.asarray(edges.target_ids, dtype=np.uint64)
            group["target_node_id"].attrs["node_population"] = edges.target
            group["edge_type_id"] = np.full(count, -1, dtype=np.int64)
            group["edge_group_id"] = np.zeros(count, dtype=np.uint32)
            group["edge_group_index"] = np.arange(count, dtype=np.uint64)
            attributes = group.create_group("0")
            attributes["syn_weight"] = np.asarray(edges.syn_weight, dtype=float)
            if edges.delay is not None:
                attributes["delay"] = _column(edges.delay, count).astype(float)


def write_spikes(path: Path, spikes: dict[str, tuple]) -> None:
    """SONATA spike file, sorted by time, with the enum `sorting` attribute libsonata wants."""
    sorting = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
    with h5py.File(path, "w") as h5:
        stamp_sonata(h5)
        for population, (ids, times) in spikes.items():
            ids, times = np.asarray(ids, dtype=np.uint64), np.asarray(times, dtype=float)
            order = np.lexsort((ids, times))
            group = h5.create_group(f"spikes/{population}")
            group.attrs.create("sorting", 2, dtype=sorting)
            group["timestamps"] = times[order]
            group["timestamps"].attrs["units"] = "ms"
            group["node_ids"] = ids[order]


def write_network(directory, spec: PointNetworkSpec) -> Path:
    """Write everything into `directory`; returns the simulation config's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_nodes(directory / "nodes.h5", spec)
    types = {p.name: {"type": p.model_type} for p in spec.populations}
    types.update({name: {"type": "virtual"} for name in spec.virtual})
    networks = {"nodes": [{"nodes_file": "$BASE_DIR/nodes.h5", "populations": types}],
                "edges": []}
    if spec.edges:
        write_edges(directory / "edges.h5", spec)
        networks["edges"] = [{"edges_file": "$BASE_DIR/edges.h5",
                              "populations": {e.name: {"type": "chemical"} for e in spec.edges}}]
    node_sets = {"All": {"population": [p.name for p in spec.populations]}, **spec.node_sets}
    (directory / "node_sets.json").write_text(json.dumps(node_sets, indent=2))
    circuit = {"version": 2, "manifest": {"$BASE_DIR": "."},
               "node_sets_file": "$BASE_DIR/node_sets.json", "networks": networks}
    (directory / "circuit_config.json").write_text(json.dumps(circuit, indent=2))
    simulation: dict[str, Any] = {"version": 2, "network": "circuit_config.json",
                  "run": {"tstop": spec.tstop, "dt": spec.dt, "random_seed": 1},
                  "output": {"output_dir": "output"}, "inputs": {}}
    if spec.spikes:
        write_spikes(directory / "input_spikes.h5", spec.spikes)
        simulation["inputs"]["replay"] = {
            "module": "synapse_replay", "input_type": "spikes", "delay": 0.0,
            "duration": spec.tstop, "node_set": "All", "spike_file": "input_spikes.h5"}
    path = directory / "simulation_config.json"
    path.write_text(json.dumps(simulation, indent=2))
    return path


def example_spec(seed: int = 7, tstop: float = 200.0) -> PointNetworkSpec:
    """A small mixed network: 6 IntFire1, 4 LIF in mV (attributes, dynamics_params and a
    synonym mixed), 5 replayed inputs; excitatory and inhibitory edges, one duplicated edge."""
    rng = np.random.default_rng(seed)
    intfire = PointPopulation("exc", 6, "nrn:IntFire1",
                              dynamics_params={"tau": 0.020, "refrac": 0.002})
    lif = PointPopulation("lif", 4, "nest:iaf_psc_exp",
                          attributes={"tau_m": [20.0, 20.0, 18.0, 22.0], "V_th": -50.0,
                                      "V_rest": -65.0, "C_m": 250.0},
                          dynamics_params={"tau_syn": 5.0, "V_reset": -65.0, "t_ref": 2.0,
                                           "I_e": [0.0, 100.0, 150.0, 200.0]})
    stim_ids = rng.integers(0, 5, 200)
    spikes = {"stim": (stim_ids, np.sort(rng.uniform(0.0, tstop, 200)))}
    edges = [
        Edges("stim", "exc", np.repeat(np.arange(5), 3), rng.integers(0, 6, 15),
              rng.uniform(0.4, 1.2, 15), rng.uniform(1.0, 3.0, 15)),
        Edges("stim", "lif", np.arange(5), np.array([0, 1, 2, 3, 0]),
              rng.uniform(200.0, 400.0, 5)),
        Edges("exc", "lif", np.array([0, 1, 2, 3, 3]), np.array([0, 1, 2, 3, 3]),
              np.array([150.0, 150.0, 120.0, 100.0, 50.0]), 1.5),
        Edges("lif", "exc", np.array([0, 1, 2]), np.array([3, 4, 5]), np.array([-0.5, -0.4, -0.3])),
        Edges("exc", "exc", np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([0.3, 0.3, 0.3])),
    ]
    return PointNetworkSpec([intfire, lif], {"stim": 5}, edges, spikes,
                            node_sets={"lif_only": {"population": "lif"}}, tstop=tstop)


# The example network on two chips: an exc core on chip 1, the rest on chip 0.
TWO_CHIP_CORES = {"cores": [
    {"chip": 0, "core": 0, "population": "exc", "node_ids": [0, 1, 2]},
    {"chip": 1, "core": 2, "population": "exc", "node_ids": [3, 4, 5]},
    {"chip": 0, "core": 3, "population": "lif", "node_ids": [0, 1, 2, 3]}]}


def two_chip_config(directory):
    """The example network written into `directory` and mapped onto two chips by
    TWO_CHIP_CORES: (ChipConfig, notes), as build_chip_config gives them."""
    from .chip_config import build_chip_config
    from .cores import read_cores_file
    from .network import open_configs, read_network

    directory = Path(directory)
    sim_config = write_network(directory / "circuit", example_spec())
    cores_file = directory / "cores.json"
    cores_file.write_text(json.dumps(TWO_CHIP_CORES))
    network = read_network(open_configs(sim_config))
    return build_chip_config(network, read_cores_file(cores_file, network.population,
                                                      network.node_id))
