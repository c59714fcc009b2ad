"""Phase 3, balance: which rank owns which cell. The assignment itself is a pure function of
the cells (and their costs) and the rank count; round-robin, whole-cell by NEURON's
complexity measure (saved per circuit, node set and rank count), or by each cell's memory
(memory.py)."""

from .round_robin import round_robin
from .whole_cell import imbalance, largest_first, rank_loads

LB_MODES = ("RoundRobin", "WholeCell", "Memory")
# The reference simulator's spellings (case-insensitive), as its --lb-mode parses them.
LB_ALIASES = {"rr": "RoundRobin", "roundrobin": "RoundRobin", "wholecell": "WholeCell",
              "memory": "Memory", "loadbalance": "MultiSplit", "multisplit": "MultiSplit"}
# Modes the reference has and this driver does not, and why.
LB_NOT_HERE = {"MultiSplit": "cells are not split across ranks here; use WholeCell"}


def lb_mode(text: str) -> str:
    """The mode `text` names (any case, or a reference alias); ValueError says why not."""
    mode = LB_ALIASES.get(text.lower())
    if mode is None:
        raise ValueError(f"'{text}': choose one of {', '.join(LB_MODES)} (any case; rr for "
                         "RoundRobin)")
    if mode in LB_NOT_HERE:
        raise ValueError(f"'{text}' ({mode}): {LB_NOT_HERE[mode]}")
    return mode


__all__ = ["LB_ALIASES", "LB_MODES", "imbalance", "largest_first", "lb_mode", "rank_loads",
           "round_robin"]
