"""Every feature with every other: a pairwise covering array of the feature matrix
(neurodamus/testing/combinations.py), generated with a fixed seed, each row run for real
under mpiexec and held to the invariants (same spikes and report frames as its reference
run -- NEURON, 1 rank, uninterrupted -- after any solver, rank count, load balance and
save/restore on the other rank count; outputs readable by libsonata and bluepysnap; exit 0,
no traceback). The pairs refused by design are each one run ending in one error line.

A failing row names its seed and index; `ci/combinations --seed SEED --only INDEX` runs it
again (and `ci/combinations --strength 3` runs a larger matrix).
"""

import pytest

from neurodamus.testing import combinations, matrix_checks
from neurodamus.testing.covering import covering_rows, tuples_covered

pytestmark = pytest.mark.mpi  # each row runs neurodamus under mpiexec

SEED = 1  # the seed of the smallest of the first eight arrays (14 rows)
ROWS = covering_rows(combinations.FACTORS, 2, seed=SEED, allowed=combinations.allowed)


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    return combinations.build_matrix_circuit(tmp_path_factory.mktemp("matrix"))


def test_the_rows_cover_every_allowed_pair():
    covered, wanted = tuples_covered(ROWS, combinations.FACTORS, 2, combinations.allowed)
    assert covered == wanted > 1000
    assert all(combinations.allowed(row) for row in ROWS)


@pytest.mark.parametrize("index", range(len(ROWS)), ids=lambda i: f"row{i}")
def test_row_keeps_the_invariants(circuit, tmp_path, index):
    row = ROWS[index]
    problems = matrix_checks.check_row(circuit, row, f"row{index}", tmp_path)
    assert not problems, (f"seed {SEED} row {index} ({combinations.describe(row)}):\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("refused", [r for r in combinations.REFUSED
                                     if r[2] not in combinations.SLOW_REFUSALS],
                         ids=lambda r: f"{r[0]}-{r[2]}")
def test_refused_pair_is_one_error_line(circuit, tmp_path, refused):
    name = "refused_" + refused[2].replace(":", "_")
    assert matrix_checks.check_refusal(circuit, refused, name, tmp_path) == []
