"""Choosing the assignment for a run: round-robin, or WholeCell reused from its saved file
or measured (collectively) and saved; and, once the cells are built, checking that the
ranks together built each target cell exactly once (the `distribution` phase)."""

import logging
from pathlib import Path

import numpy as np

from ..errors import NeurodamusError
from .assignment_cache import assignment_path, load_assignment, save_assignment
from .cost import cell_costs
from .memory import memory_assignment
from .round_robin import round_robin
from .whole_cell import imbalance, largest_first, rank_loads

log = logging.getLogger("neurodamus")


def whole_cell_assignment(h, parallel, settings, circuit, gids, n_ranks: int, cache_dir: Path):
    """(rank of each gid, cost of each gid): the saved assignment for (circuit, node set,
    n_ranks) when it covers exactly these gids, otherwise measured, computed and saved."""
    path = assignment_path(Path(cache_dir) / "loadbal", settings, n_ranks)
    cached = parallel.bcast(load_assignment(path) if parallel.is_root else None)
    if cached is not None and np.all(np.diff(cached[0]) > 0) and np.array_equal(cached[0], gids):
        return cached[1], cached[2]
    costs = cell_costs(h, parallel, settings, circuit, gids)
    ranks = largest_first(gids, costs, n_ranks)
    if parallel.is_root:
        save_assignment(path, gids, ranks, costs)
        log.info("Saved the WholeCell assignment in %s", path)
    return ranks, costs


def local_gids(h, parallel, settings, circuit, gids, lb_mode: str, n_ranks: int, cache_dir: Path):
    """(this rank's gids, imbalance or None). `gids` sorted; `n_ranks` may differ from the
    ranks running (--num-target-ranks), then the result is only saved and reported."""
    if lb_mode == "RoundRobin" and n_ranks == parallel.size:
        return round_robin(gids, parallel.size, parallel.rank,
                           list(circuit.offsets().values())), None
    if lb_mode == "Memory":
        return _by_memory(h, parallel, settings, circuit, gids, n_ranks)
    ranks, costs = whole_cell_assignment(h, parallel, settings, circuit, gids, n_ranks, cache_dir)
    ratio = imbalance(rank_loads(ranks, costs, n_ranks))
    if parallel.is_root:
        log.info("WholeCell assignment for %d ranks: imbalance (max/mean load) %.3f",
                 n_ranks, ratio)
    return np.sort(gids[ranks == parallel.rank]), ratio


def _by_memory(h, parallel, settings, circuit, gids, n_ranks: int):
    """The reference simulator's Memory allocation (memory.py), from cell_memory_usage.json
    when it describes these cells."""
    ranks, loads = memory_assignment(h, parallel, settings, circuit, gids, n_ranks)
    ratio = imbalance(loads)
    if parallel.is_root:
        log.info("Memory assignment for %d ranks: %.1f to %.1f MB of cells and synapses per rank "
                 "(estimated), imbalance (max/mean) %.3f", n_ranks, loads.min(), loads.max(), ratio)
    return np.sort(gids[ranks == parallel.rank]), ratio


def gid_checksum(gids) -> tuple[int, int]:
    """(sum, sum of squares) of `gids`, exact (Python integers): equal over the target and
    the cells built only when each target cell was built once."""
    gids = np.asarray(gids, dtype=np.int64)
    return int(gids.sum()), int((gids.astype(object) ** 2).sum())


def check_distribution(parallel, cells, local_engines: dict, target) -> dict:
    """The `distribution` phase: every target cell built exactly once across ranks (catches
    N serial copies); gives the cell engines of every rank's populations (log, summary)."""
    engines = {}
    for part in parallel.allgather(local_engines):
        engines.update(part)
    total, squares = gid_checksum([c.gid for c in cells])
    count = parallel.allreduce_sum(len(cells))
    checksum = (parallel.allreduce_sum(total), parallel.allreduce_sum(squares))
    if (count, checksum) != (target.count, target.checksum):
        raise NeurodamusError(
            f"cell distribution is wrong: {count} cells built over {parallel.size} ranks "
            f"for {target.count} targets (are the ranks sharing one MPI?)")
    return dict(sorted(engines.items()))
