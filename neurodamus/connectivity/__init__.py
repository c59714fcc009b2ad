"""Phase 5, connections: chemical synapses on the local cells, connected across ranks through
the ParallelContext, then connection overrides, spontaneous minis, gap junctions and spike
replay. Edges are read in bulk for the local cells only."""

from .builder import (
    Connections,
    connect_gap_junction_halves,
    connect_rest,
    connect_synapses,
    synapse_models_by_population,
)
from .edges import AfferentEdges, read_afferent_edges

__all__ = ["AfferentEdges", "Connections", "connect_gap_junction_halves", "connect_rest",
           "connect_synapses", "read_afferent_edges", "synapse_models_by_population"]
