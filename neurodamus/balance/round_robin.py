"""Round-robin distribution, per population as the reference simulator does it: the i-th
selected node of each population (in node-id order) goes to rank i mod n_ranks. So node 0 of
every population is on rank 0, whatever the populations before it hold (the reference's tests
and users' scripts rely on that placement); a single population is the plain round-robin."""

import numpy as np


def round_robin(gids, n_ranks: int, rank: int, population_starts=()) -> np.ndarray:
    """The gids (sorted) rank `rank` owns out of `gids` when `n_ranks` share them.
    `population_starts`: the first gid of each population (their offsets); without them all
    gids count as one population."""
    ordered = np.sort(np.asarray(gids, dtype=np.int64))
    bounds = np.searchsorted(ordered, np.unique(np.asarray(population_starts, np.int64)))
    parts = [part[rank::n_ranks] for part in np.split(ordered, bounds)]
    return np.concatenate(parts) if parts else ordered
