"""The cost of a cell for load balancing, with NEURON's own complexity measure.

NEURON's LoadBalance.cell_complexity counts the work per segment of every mechanism and
point process. Every node of one kind costs the same (the cell engine says what a kind is:
template and morphology for hoc cells, and so on), so one sample per kind is built by its
engine and measured (the samples are shared out over the ranks), plus the cost of one
afferent synapse, measured the same way on the first sample; a cell costs its sample's
complexity plus its synapses'. Engines whose cells that measure does not fit (artificial
cells) declare a fixed cost per cell and per synapse instead.

Nodes are grouped as the cells phase groups them: by population and, where the nodes give
their own model_type, by that (cells.engine_groups).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libsonata
import numpy as np

from ..cells.engines import CellEngine, engine_groups
from ..connectivity.builder import EDGE_CONVENTIONS

if TYPE_CHECKING:
    from ..circuit.nodes import NodePopulation

SYNAPSE_SAMPLES = 2  # afferent synapses measured: one inhibitory, one excitatory


def afferent_synapse_counts(settings, circuit, gids) -> np.ndarray:
    """Synapses onto each gid (edges of every type that makes synapses or NetCons),
    counted from the edges' target ids."""
    gids = np.asarray(gids, np.int64)
    counts = np.zeros(gids.size, float)
    for edges in settings.circuit.edge_populations:
        if edges.type not in EDGE_CONVENTIONS:  # synapse-making edge types only
            continue
        population = libsonata.EdgeStorage(str(edges.edges_file)).open_population(edges.name)
        targets = np.asarray(population.target_nodes(population.select_all()), np.int64)
        target = circuit.populations[edges.target]
        per_node = np.bincount(targets, minlength=target.size)
        mine = (gids >= target.offset) & (gids < target.offset + target.size)
        counts[mine] += per_node[gids[mine] - target.offset]
    return counts


@dataclass
class KindGroup:
    """Nodes that one engine builds: a population, or its nodes of one model_type."""

    population: "NodePopulation"
    model_type: str | None
    engine: CellEngine
    positions: np.ndarray  # into the gids asked about
    node_ids: np.ndarray
    kinds: list  # the engine's kind of each node

    def key(self, kind) -> tuple:
        """A kind, made unique over the circuit (and sortable)."""
        return (self.population.name, self.model_type or "", kind)


def kind_groups(circuit, gids) -> list[KindGroup]:
    """The gids' nodes by population and model_type, each node's kind read in bulk. Nodes
    no engine builds (virtual nodes of a mixed population) are in no group."""
    gids = np.asarray(gids, np.int64)
    groups = []
    for population in circuit.populations.values():
        mask = (gids >= population.offset) & (gids < population.offset + population.size)
        if not mask.any():
            continue
        positions = np.flatnonzero(mask)
        positions = positions[np.argsort(gids[positions], kind="stable")]
        node_ids = population.node_ids(gids[positions])
        for engine, model_type, where in engine_groups(population, node_ids):
            groups.append(KindGroup(population, model_type, engine, positions[where],
                                    node_ids[where], engine.kinds(population, node_ids[where])))
    return groups


def first_nodes(groups, measured_only=False) -> dict:
    """{kind key: (group, kind, first node id)}, in the order the nodes come."""
    out = {}
    for group in groups:
        if measured_only and group.engine.fixed_cost is not None:
            continue
        for node_id, kind in zip(group.node_ids.tolist(), group.kinds):
            key = group.key(kind)
            if key not in out:
                out[key] = (group, kind, node_id)
    return out


def measure_complexities(h, pc, run_settings, samples) -> tuple[dict, float | None]:
    """({kind key: complexity}, complexity of one afferent synapse) for `samples` (kind
    key -> (group, kind, node id)), built here one by one and destroyed."""
    h.load_file("loadbal.hoc")
    balance = h.LoadBalance()
    out, synapse = {}, None
    for key, (group, kind, node_id) in samples.items():
        engine = group.engine
        cell = engine.sample(group.population, kind, node_id, h, pc, run_settings)
        out[key] = float(balance.cell_complexity(cell))
        if synapse is None:
            before = balance.cell_complexity(cell)
            keep = [engine.afferent(h, cell, i) for i in range(SYNAPSE_SAMPLES)]
            synapse = float(balance.cell_complexity(cell) - before) / len(keep)
            del keep
        engine.destroy(h, cell)
        del cell
    return out, synapse


def cell_costs(h, parallel, settings, circuit, gids) -> np.ndarray:
    """Cost of every gid (collective: samples are measured on all ranks, results shared)."""
    gids = np.asarray(gids, np.int64)
    groups = kind_groups(circuit, gids)
    wanted = first_nodes(groups, measured_only=True)
    mine = {key: wanted[key] for key in sorted(wanted)[parallel.rank::parallel.size]}
    result = parallel.agree(lambda: measure_complexities(h, parallel.pc, settings.run, mine)
                            if mine else ({}, None))
    measured, synapse_cost = {}, None
    for part, synapse in parallel.allgather(result):
        measured.update(part)
        synapse_cost = synapse if synapse is not None else synapse_cost
    base, per_synapse = np.zeros(gids.size), np.zeros(gids.size)
    for group in groups:
        fixed = group.engine.fixed_cost
        if fixed is not None:
            base[group.positions] = fixed.cell
            per_synapse[group.positions] = fixed.per_synapse
        else:
            base[group.positions] = [measured[group.key(kind)] for kind in group.kinds]
            per_synapse[group.positions] = synapse_cost
    synapses = afferent_synapse_counts(settings, circuit, gids) if parallel.is_root else None
    synapses = parallel.bcast(synapses)
    return base + per_synapse * synapses
