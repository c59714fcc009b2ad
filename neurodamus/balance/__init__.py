"""Phase 3, balance: which rank owns which cell. The assignment itself is a pure function of
the cells (and their costs) and the rank count; round-robin, whole-cell by NEURON's
complexity measure (saved per circuit, node set and rank count), or by each cell's memory
(memory.py)."""

from .round_robin import round_robin
from .whole_cell import imbalance, largest_first, rank_loads

LB_MODES = ("RoundRobin", "WholeCell", "Memory")

__all__ = ["LB_MODES", "imbalance", "largest_first", "rank_loads", "round_robin"]
