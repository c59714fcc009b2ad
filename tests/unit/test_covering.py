"""The covering-array generator behind the combination matrix (neurodamus/testing/covering.py)."""

import itertools

import pytest

from neurodamus.testing.covering import covering_rows, tuples_covered

FACTORS = {"a": (1, 2, 3), "b": ("x", "y", "z"), "c": (False, True), "d": (False, True),
           "e": (False, True), "f": ("p", "q")}


def no_z_with_true_c(row):
    return not (row.get("b") == "z" and row.get("c") is True)


@pytest.mark.parametrize("strength", [2, 3])
def test_every_allowed_tuple_is_covered_and_no_row_is_refused(strength):
    rows = covering_rows(FACTORS, strength, seed=1, allowed=no_z_with_true_c)
    covered, wanted = tuples_covered(rows, FACTORS, strength, no_z_with_true_c)
    assert covered == wanted
    assert all(no_z_with_true_c(row) for row in rows)
    assert all(set(row) == set(FACTORS) for row in rows)
    every = list(itertools.product(*FACTORS.values()))
    assert len(rows) < len(every) / 4  # far fewer than the full product (144)


def test_pairs_need_at_least_the_product_of_the_two_largest_factors():
    rows = covering_rows(FACTORS, 2, seed=5)
    assert 9 <= len(rows) <= 14


def test_the_same_seed_gives_the_same_rows():
    assert covering_rows(FACTORS, 2, seed=7) == covering_rows(FACTORS, 2, seed=7)


def test_contradicting_constraints_are_named():
    """a = 1 is allowed in every pair with b, but no value of c can go with it: no row can
    cover (a=1, b=...), which is an error, not an endless search."""
    factors = {"a": (1, 2), "b": (1, 2), "c": (1, 2)}
    with pytest.raises(ValueError, match="cannot be covered"):
        covering_rows(factors, 2, allowed=lambda row: not (row.get("a") == 1 and "c" in row))
