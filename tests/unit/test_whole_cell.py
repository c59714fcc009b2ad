"""Whole-cell balancing (largest first to the least loaded rank) as a pure function."""

import numpy as np
import pytest

from neurodamus.balance import imbalance, largest_first, rank_loads


def test_every_gid_gets_one_rank_and_loads_are_even():
    rng = np.random.default_rng(3)
    gids = np.arange(1000, 1400)
    costs = rng.lognormal(3.0, 0.5, gids.size)
    ranks = largest_first(gids, costs, 4)
    assert ranks.shape == gids.shape and set(ranks) == {0, 1, 2, 3}
    loads = rank_loads(ranks, costs, 4)
    assert loads.sum() == pytest.approx(costs.sum())
    # LPT: the largest load exceeds the mean by at most the largest single cost.
    assert loads.max() - loads.mean() <= costs.max()
    assert imbalance(loads) < 1.02


def test_deterministic_and_ties_broken_by_gid():
    gids = np.array([5, 3, 9, 1])
    costs = np.ones(4)
    first = largest_first(gids, costs, 2)
    assert np.array_equal(first, largest_first(gids, costs, 2))
    assert dict(zip(gids.tolist(), first.tolist())) == {1: 0, 3: 1, 5: 0, 9: 1}


def test_known_optimum():
    # costs 7,5,4,3,1 on 2 ranks: LPT gives {7,3} = 10 and {5,4,1} = 10.
    ranks = largest_first(np.arange(5), np.array([7.0, 5, 4, 3, 1]), 2)
    assert sorted(rank_loads(ranks, [7.0, 5, 4, 3, 1], 2)) == [10.0, 10.0]
    assert imbalance([10.0, 10.0]) == 1.0
