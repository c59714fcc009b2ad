"""Whole-cell load balancing: each cell goes, largest first, to the least loaded rank
(longest-processing-time scheduling, within 4/3 of the optimum). A pure function of
(gids, costs, rank count), so it is tested without NEURON or MPI."""

import heapq

import numpy as np


def largest_first(gids, costs, n_ranks: int) -> np.ndarray:
    """The rank of each gid (same order as `gids`). Ties broken by gid, so it is deterministic."""
    gids = np.asarray(gids, np.int64)
    costs = np.asarray(costs, float)
    order = np.lexsort((gids, -costs))
    loads = [(0.0, rank) for rank in range(n_ranks)]
    ranks = np.empty(gids.size, np.int64)
    for index in order:
        load, rank = heapq.heappop(loads)
        ranks[index] = rank
        heapq.heappush(loads, (load + costs[index], rank))
    return ranks


def rank_loads(ranks, costs, n_ranks: int) -> np.ndarray:
    return np.bincount(np.asarray(ranks, np.int64), weights=np.asarray(costs, float),
                       minlength=n_ranks)


def imbalance(loads) -> float:
    """max / mean rank load: 1.0 is perfect."""
    loads = np.asarray(loads, float)
    return float(loads.max() / loads.mean()) if loads.size and loads.mean() > 0 else 1.0
