"""Phase 5, connections: chemical synapses on the local cells, connected across ranks
through the ParallelContext. Edges are read in bulk for the local cells only."""

from .edges import AfferentEdges, read_afferent_edges
from .synapses import connect_chemical

__all__ = ["AfferentEdges", "read_afferent_edges", "connect_chemical"]
