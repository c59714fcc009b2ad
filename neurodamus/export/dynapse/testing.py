"""Write small SONATA point-neuron networks (nodes, edges, node sets, spikes, configs) for tests.

Strict SONATA as libsonata reads it: one group per population, attributes and
`dynamics_params` in the HDF5 files, an enum `sorting` in the spike file; the files are
written by the test circuits' one writer (neurodamus.testing.sonata_files) and the
driver's spike writer.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...reports.spikes import write_spikes as write_sonata_spikes
from ...testing.sonata_files import (
    column,
    sonata_file,
    write_edge_population,
    write_node_population,
)


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



def write_nodes(path: Path, spec: PointNetworkSpec) -> None:
    with sonata_file(path) as h5:
        for population in spec.populations:
            write_node_population(h5, population.name, population.size, {
                "model_type": population.model_type,
                "model_template": population.model_template, **population.attributes},
                population.dynamics_params)
        for name, size in spec.virtual.items():
            write_node_population(h5, name, size, {"model_type": "virtual"})


def write_edges(path: Path, spec: PointNetworkSpec) -> None:
    """Every edge population of `spec`, in the order given (not sorted, no indices)."""
    with sonata_file(path) as h5:
        for edges in spec.edges:
            count = len(edges.source_ids)
            attributes = {"syn_weight": np.asarray(edges.syn_weight, dtype=float)}
            if edges.delay is not None:
                attributes["delay"] = np.asarray(column(edges.delay, count), dtype=float)
            write_edge_population(h5, edges.name, edges.source, edges.target, edges.source_ids,
                                  edges.target_ids, attributes, sort=False)


def write_spikes(path: Path, spikes: dict[str, tuple]) -> None:
    """SONATA spike file of {population: (node ids, times)}, sorted by time."""
    write_sonata_spikes(path, {population: (times, ids)
                               for population, (ids, times) in spikes.items()}, "by_time")


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
