"""The MultiSplit plan (balance/multisplit.py), a pure function: which cells are cut, where
their pieces go, and the balance it buys over whole cells."""

import numpy as np

from neurodamus.balance import imbalance, largest_first, rank_loads
from neurodamus.balance.multisplit import piece_loads, plan_multisplit


def test_large_cells_are_split_over_two_ranks_and_balance_improves():
    gids = np.arange(5)
    weights = np.array([1000.0, 900.0, 100.0, 100.0, 100.0])
    children = np.array([400.0, 350.0, 20.0, 20.0, 20.0])
    ranks, cells = plan_multisplit(gids, weights, children, 3)
    assert [c.gid for c in cells] == [0, 1]  # more than half of a rank's share (733)
    assert all(c.owner != c.piece_rank for c in cells)
    assert [c.sid for c in cells] == [0, 1]
    split_loads = piece_loads(ranks, weights, cells, 3)
    assert split_loads.sum() == weights.sum()
    whole = rank_loads(largest_first(gids, weights, 3), weights, 3)
    assert imbalance(split_loads) < imbalance(whole)  # 1.02 against 1.36
    assert split_loads.tolist() == [700.0, 750.0, 750.0]


def test_nothing_is_split_on_one_rank_or_when_cells_are_small():
    gids = np.arange(4)
    weights = np.full(4, 10.0)
    ranks, cells = plan_multisplit(gids, weights, weights / 2, 1)
    assert cells == [] and ranks.tolist() == [0, 0, 0, 0]
    ranks, cells = plan_multisplit(gids, weights, weights / 2, 2)
    assert cells == [] and sorted(ranks.tolist()) == [0, 0, 1, 1]


def test_a_cell_without_soma_children_stays_whole():
    ranks, cells = plan_multisplit(np.arange(2), [100.0, 1.0], [0.0, 0.0], 2)
    assert cells == [] and ranks[0] != ranks[1]
