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
