"""Covering arrays: rows of factor levels in which every t-tuple of levels (t = 2: every pair)
of different factors appears together in some row, except the tuples a constraint forbids.

A greedy generator of the AETG kind, seeded so that a row set can be made again: each new
row is the best of a few candidates, each built factor by factor (in a random order) with
the level that covers the most tuples not yet covered, among the levels the constraints
allow with what the row already holds, starting from one uncovered tuple. Small and
dependency-free; strength 2 over ~30 factors gives about 16 rows.
"""

import itertools
import random
from collections.abc import Callable, Mapping, Sequence

Row = dict[str, object]
# allowed(row) -> False when the (partial) row combines levels that cannot run together
Allowed = Callable[[Row], bool]


def _tuples(factors: Mapping[str, Sequence], strength: int, allowed: Allowed) -> set:
    wanted = set()
    for names in itertools.combinations(sorted(factors), strength):
        for levels in itertools.product(*(range(len(factors[n])) for n in names)):
            row = {n: factors[n][i] for n, i in zip(names, levels)}
            if allowed(row):
                wanted.add(tuple(zip(names, levels)))
    return wanted


def _covered_by(row_index: dict, names: Sequence[str], strength: int) -> set:
    return {tuple((n, row_index[n]) for n in subset)
            for subset in itertools.combinations(sorted(names), strength)}


def covering_rows(factors: Mapping[str, Sequence], strength: int = 2, seed: int = 0,
                  allowed: Allowed = lambda row: True, candidates: int = 20) -> list[Row]:
    """Rows (factor -> level) covering every allowed `strength`-tuple of levels."""
    rng = random.Random(seed)
    uncovered = _tuples(factors, strength, allowed)
    names = sorted(factors)
    rows: list[Row] = []
    while uncovered:
        best, best_gain = None, -1
        pool = sorted(uncovered)
        for _ in range(candidates):
            # each candidate starts from an uncovered tuple (so one always gains), then
            # takes the other factors in a random order
            seed_tuple = dict(pool[rng.randrange(len(pool))])
            order = [n for n in names if n not in seed_tuple]
            rng.shuffle(order)
            chosen: dict[str, int] = dict(seed_tuple)
            for name in order:
                options = list(range(len(factors[name])))
                rng.shuffle(options)
                scored = []
                for level in options:
                    trial = {**chosen, name: level}
                    if not allowed({n: factors[n][i] for n, i in trial.items()}):
                        continue
                    gain = sum(1 for subset in itertools.combinations(sorted(chosen), strength - 1)
                               if tuple(sorted([*((n, chosen[n]) for n in subset), (name, level)]))
                               in uncovered)
                    scored.append((gain, level))
                if not scored:
                    break
                chosen[name] = max(scored, key=lambda item: item[0])[1]
            if len(chosen) != len(names):
                continue
            gain = len(_covered_by(chosen, names, strength) & uncovered)
            if gain > best_gain:
                best, best_gain = chosen, gain
        if best is None or best_gain <= 0:
            raise ValueError(f"{len(uncovered)} allowed tuples cannot be covered "
                             f"(e.g. {sorted(uncovered)[0]}): the constraints contradict")
        uncovered -= _covered_by(best, names, strength)
        rows.append({n: factors[n][i] for n, i in best.items()})
    return rows


def tuples_covered(rows: Sequence[Row], factors: Mapping[str, Sequence], strength: int = 2,
                   allowed: Allowed = lambda row: True) -> tuple[int, int]:
    """(tuples the rows cover, allowed tuples in all): the check that the rows do cover."""
    wanted = _tuples(factors, strength, allowed)
    have = set()
    for row in rows:
        index = {n: list(factors[n]).index(row[n]) for n in factors}
        have |= _covered_by(index, list(factors), strength)
    return len(have & wanted), len(wanted)
