"""Phase 5, connections: chemical synapses on the local cells, connected across ranks through
the ParallelContext, then connection overrides, spontaneous minis, gap junctions and spike
replay. Edges are read in bulk for the local cells only."""

from .builder import Connections, connect_all
from .edges import AfferentEdges, read_afferent_edges

__all__ = ["AfferentEdges", "Connections", "connect_all", "read_afferent_edges"]
