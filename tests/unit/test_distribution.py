"""Round-robin distribution is a pure function: disjoint, complete, balanced."""

import numpy as np
import pytest

from neurodamus.balance import round_robin


@pytest.mark.parametrize("n_ranks", [1, 2, 3, 7])
def test_round_robin_partitions_the_gids(n_ranks):
    gids = np.random.default_rng(0).permutation(np.arange(100, 153))
    parts = [round_robin(gids, n_ranks, rank) for rank in range(n_ranks)]
    everything = np.concatenate(parts)
    assert np.array_equal(np.sort(everything), np.sort(gids))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_round_robin_starts_each_population_on_rank_0():
    """The reference's placement: populations of 3 and 2 cells (offsets 0 and 1000) on 2
    ranks give rank 0 nodes 0, 2 of the first and node 0 of the second; a plain round-robin
    over the 5 gids would put the second population's node 0 on rank 1."""
    gids = np.array([0, 1, 2, 1000, 1001])
    mine = [round_robin(gids, 2, rank, population_starts=[0, 1000]).tolist() for rank in (0, 1)]
    assert mine == [[0, 2, 1000], [1, 1001]]
    assert round_robin(gids, 2, 1).tolist() == [1, 1000]
    # a node set that skips a population's first nodes counts from its first selected node
    assert round_robin(np.array([5, 1003, 1004]), 2, 0, [0, 1000]).tolist() == [5, 1003]
