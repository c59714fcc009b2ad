"""Round-robin distribution: the i-th gid (in sorted order) goes to rank i mod n_ranks."""

import numpy as np


def round_robin(gids, n_ranks: int, rank: int) -> np.ndarray:
    """The gids rank `rank` owns out of `gids`, when `n_ranks` share them."""
    ordered = np.sort(np.asarray(gids, dtype=np.int64))
    return ordered[rank::n_ranks]
