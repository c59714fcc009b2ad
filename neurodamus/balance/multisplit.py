"""MultiSplit load balancing: a cell too large for one rank's share is cut at its soma into
pieces that run on different ranks, joined again by NEURON's ParallelContext.multisplit.

Why at the soma: the soma is where a cell's dendritic and axonal trees meet, so cutting one of
its child subtrees off gives a piece of any size the tree offers, and the rank that keeps the
soma keeps the spike detector (the whole cell's gid is registered there and nowhere else).

The cut, per split cell: the soma-child subtree with the most compartments moves to another
rank; every rank builds the whole cell, then removes the sections it does not own. On the rank
keeping the soma, `pc.multisplit(soma(x), sid)` names the point the subtree hung from; on the
piece's rank the subtree is disconnected and `pc.multisplit(child(0), sid)` names its root,
with the same split id. `pc.multisplit()` (no argument) is then called once on every rank,
after all pieces are declared and before `finitialize`.

The plan (`plan_multisplit`) is a pure function of the cells' weights, so it is tested
without NEURON or MPI; `apply_split` does the NEURON side.
"""

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SplitCell:
    """One cell cut in two: its soma piece on `owner`, its largest soma-child subtree
    (weight `piece_weight`) on `piece_rank`, joined under split id `sid`."""

    gid: int
    owner: int
    piece_rank: int
    sid: int
    piece_weight: float


def plan_multisplit(gids, weights, largest_child, n_ranks: int, first_sid: int = 0,
                    threshold: float = 0.5):
    """(rank of each gid's soma piece, [SplitCell]) for cells of `weights` (compartments or
    complexity), `largest_child[i]` being the weight of cell i's largest soma-child subtree.

    A cell is split when it weighs more than `threshold` times the mean rank load (whole,
    it is too coarse a grain for the ranks to be balanced). Pieces are then placed largest
    first on the least loaded rank (longest-processing-time scheduling), a split cell's two
    pieces on different ranks."""
    gids = np.asarray(gids, np.int64)
    weights = np.asarray(weights, float)
    largest_child = np.asarray(largest_child, float)
    share = weights.sum() / n_ranks
    split = (weights > threshold * share) & (largest_child > 0)
    if n_ranks == 1:
        split[:] = False
    # items: (weight, gid, kind) with kind 0 = whole or soma piece, 1 = moved subtree
    items = []
    for i in range(gids.size):
        if split[i]:
            items.append((weights[i] - largest_child[i], int(gids[i]), 0))
            items.append((largest_child[i], int(gids[i]), 1))
        else:
            items.append((weights[i], int(gids[i]), 0))
    items.sort(key=lambda item: (-item[0], item[1], item[2]))
    loads = [(0.0, rank) for rank in range(n_ranks)]
    placed: dict[tuple[int, int], int] = {}
    for weight, gid, kind in items:
        other = placed.get((gid, 1 - kind))
        popped = []
        load, rank = heapq.heappop(loads)
        while rank == other:  # never both pieces of one cell on one rank
            popped.append((load, rank))
            load, rank = heapq.heappop(loads)
        placed[(gid, kind)] = rank
        heapq.heappush(loads, (load + weight, rank))
        for entry in popped:
            heapq.heappush(loads, entry)
    ranks = np.array([placed[(int(g), 0)] for g in gids], np.int64)
    cells = [SplitCell(int(gids[i]), placed[(int(gids[i]), 0)], placed[(int(gids[i]), 1)],
                       first_sid + n, float(largest_child[i]))
             for n, i in enumerate(np.flatnonzero(split))]
    return ranks, cells


def piece_loads(ranks, weights, split_cells, n_ranks: int) -> np.ndarray:
    """Each rank's load under the plan: whole cells, soma pieces and moved subtrees."""
    loads = np.bincount(np.asarray(ranks, np.int64), weights=np.asarray(weights, float),
                        minlength=n_ranks).astype(float)
    for cell in split_cells:
        loads[cell.owner] -= cell.piece_weight
        loads[cell.piece_rank] += cell.piece_weight
    return loads


# ------------------------------------------------------------------------------ NEURON side


def subtree(h, section) -> list:
    """`section` and every section below it."""
    out, stack = [], [section]
    while stack:
        sec = stack.pop()
        out.append(sec)
        stack.extend(sec.children())
    return out


def compartments(sections) -> int:
    return int(sum(sec.nseg for sec in sections))


def largest_soma_child(h, soma):
    """(child section, its subtree's compartments) of the soma's heaviest child subtree, or
    (None, 0) for a cell without one."""
    best, weight = None, 0
    for child in soma.children():
        count = compartments(subtree(h, child))
        if count > weight:
            best, weight = child, count
    return best, weight


def apply_split(h, pc, soma, all_sections, split: SplitCell, rank: int) -> list:
    """Cut the built cell (`soma`, `all_sections`) for this rank and declare its split point
    with pc.multisplit; gives the sections this rank keeps. Call on the owner and the piece
    rank only, before `pc.multisplit()` and `finitialize`. A point process in a removed
    section is an error: this cut moves sections, never what is placed on them."""
    child, _ = largest_soma_child(h, soma)
    if child is None:
        raise ValueError(f"gid {split.gid}: the soma has no child to split off")
    moved = subtree(h, child)
    moved_names = {sec.name() for sec in moved}
    if rank == split.owner:
        x = child.parentseg().x
        drop = moved
        keep = [sec for sec in all_sections if sec.name() not in moved_names]
    elif rank == split.piece_rank:
        h.disconnect(sec=child)
        keep = moved
        drop = [sec for sec in all_sections if sec.name() not in moved_names]
    else:
        raise ValueError(f"rank {rank} holds no piece of gid {split.gid}")
    for sec in drop:
        for seg in [*sec, sec(1)]:  # sec(0) is the parent's node, which stays
            if seg.point_processes():
                raise ValueError(f"gid {split.gid}: section {sec.name()} moves to another rank "
                                 "but holds point processes (synapses, stimuli)")
    for sec in drop:
        h.delete_section(sec=sec)
    if rank == split.owner:
        pc.multisplit(soma(x), split.sid)
    else:
        pc.multisplit(child(0), split.sid)
    return keep
