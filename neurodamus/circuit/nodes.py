"""Node populations, their gid offsets, and the cells a node set selects.

gid = population offset + node id. Offsets follow the order of the circuit config, so
they are the same on every rank and in every run of the same circuit.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libsonata
import numpy as np

from ..errors import CircuitError
from ..hdf5_files import quiet_stderr
from ..random.reference import reference_gid_offsets
from .node_set_rules import NodeSetResolver

if TYPE_CHECKING:
    from ..config.settings import NodePopulationSettings


@dataclass
class NodePopulation:
    settings: "NodePopulationSettings"
    offset: int
    size: int
    storage: Any  # libsonata.NodePopulation (untyped)

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def is_virtual(self) -> bool:
        return self.settings.type == "virtual"

    def gids(self, node_ids) -> np.ndarray:
        return np.asarray(node_ids, dtype=np.int64) + self.offset

    def node_ids(self, gids) -> np.ndarray:
        return np.asarray(gids, dtype=np.int64) - self.offset

    def attributes(self, node_ids, names) -> dict:
        """Read several attributes for many nodes: one libsonata call per attribute."""
        selection = libsonata.Selection(np.asarray(node_ids, dtype=np.uint64))
        available = set(self.storage.attribute_names)
        out = {}
        for name in names:
            if name not in available:
                raise CircuitError(f"attribute '{name}' not found", population=self.name,
                                   file=self.settings.nodes_file)
            out[name] = np.asarray(self.storage.get_attribute(name, selection))
        return out

    def dynamics(self, node_ids, names, defaults: dict) -> dict:
        """dynamics_params attributes, with a default where the population lacks one."""
        selection = libsonata.Selection(np.asarray(node_ids, dtype=np.uint64))
        available = set(self.storage.dynamics_attribute_names)
        out = {}
        for name in names:
            if name in available:
                out[name] = np.asarray(self.storage.get_dynamics_attribute(name, selection), float)
            else:
                out[name] = np.full(len(node_ids), defaults[name], float)
        return out


class Circuit:
    """All node populations of a circuit, with offsets, and node-set resolution."""

    def __init__(self, populations: list[NodePopulation], node_sets):
        self.populations = {p.name: p for p in populations}
        self.node_sets = node_sets
        self._resolver = NodeSetResolver(node_sets)

    def population_of_gid(self, gid: int) -> NodePopulation:
        for population in self.populations.values():
            if population.offset <= gid < population.offset + population.size:
                return population
        raise CircuitError(f"gid {gid} belongs to no population")

    def target_gids(self, node_set: str | None) -> np.ndarray:
        """Sorted gids of the non-virtual cells in `node_set` (all non-virtual cells if None)."""
        parts = []
        for population in self.populations.values():
            if population.is_virtual:
                continue
            if node_set is None:
                ids = np.arange(population.size)
            else:
                ids = self.node_set_ids(node_set, population)
            parts.append(population.gids(ids))
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def node_set_ids(self, node_set: str, population: NodePopulation) -> np.ndarray:
        """Node ids of `node_set` in `population` (none where it selects by an attribute the
        population lacks: node_set_rules.py)."""
        return self._resolver.node_ids(node_set, population.storage)

    def reference_offsets(self) -> dict[str, int]:
        """The reference simulator's gid offsets for these populations (its random-stream
        keys use them; see random.reference.reference_gid_offsets)."""
        return reference_gid_offsets({name: p.size for name, p in self.populations.items()})

    def offsets(self) -> dict[str, int]:
        return {name: p.offset for name, p in self.populations.items()}

    def write_offsets(self, output_dir: Path):
        """populations_offset.dat: `name::offset` per line, for tools that map gids back."""
        lines = [f"{name}::{p.offset}" for name, p in self.populations.items()]
        (Path(output_dir) / "populations_offset.dat").write_text("\n".join(lines) + "\n")


def open_circuit(settings, node_sets) -> Circuit:
    """Open every node population of the circuit and assign offsets in config order."""
    populations, offset = [], 0
    for pop_settings in settings.circuit.node_populations:
        try:
            with quiet_stderr():  # libsonata's HDF5 would print its error stack on every rank
                storage = libsonata.NodeStorage(str(pop_settings.nodes_file)).open_population(
                    pop_settings.name)
        except (libsonata.SonataError, RuntimeError) as error:
            raise CircuitError(f"cannot open nodes: {error}", population=pop_settings.name,
                               file=pop_settings.nodes_file) from None
        populations.append(NodePopulation(pop_settings, offset, storage.size, storage))
        offset += storage.size
    return Circuit(populations, node_sets)
