"""cell_memory_usage.json and the reference simulator's Memory allocation, without NEURON:
the placements its own tests expect, batches, ties, and the file read back."""

import json

import pytest

from neurodamus.balance.memory_usage import (
    SYNAPSE_KB,
    CellMemoryUsage,
    allocate,
    bucket_loads,
    cell_kb,
)
from neurodamus.errors import ConfigError

# The reference's copy_memory_files fixture (its tests/conftest.py).
RING = CellMemoryUsage(
    {"MTYPE0-ETYPE0": 1000.0, "MTYPE0-ETYPE1": 100.0, "MTYPE1-ETYPE1": 200.0,
     "MTYPE2-ETYPE2": 200.0},
    {"MTYPE0-ETYPE0": 1.0, "MTYPE0-ETYPE1": 2.0, "MTYPE1-ETYPE1": 2.0, "MTYPE2-ETYPE2": 1.0},
    {"RingA": {"MTYPE0-ETYPE0": [0], "MTYPE1-ETYPE1": [1], "MTYPE2-ETYPE2": [2]},
     "RingB": {"MTYPE0-ETYPE1": [0], "MTYPE1-ETYPE1": [1]}})


def test_the_placement_the_reference_expects_from_fixed_figures():
    # its test_dry_run_dynamic_distribute: each population balanced on its own
    assert allocate(RING, 2) == {"RingA": {(0, 0): [0], (1, 0): [1, 2]},
                                 "RingB": {(0, 0): [1], (1, 0): [0]}}
    assert allocate(RING, 1) == {"RingA": {(0, 0): [0, 1, 2]}, "RingB": {(0, 0): [1, 0]}}


def test_costs_add_the_fixed_synapse_figure_and_sort_costliest_first():
    costs = cell_kb(RING)
    assert list(costs) == ["MTYPE0-ETYPE0", "MTYPE1-ETYPE1", "MTYPE2-ETYPE2", "MTYPE0-ETYPE1"]
    assert costs["MTYPE1-ETYPE1"] == pytest.approx(200 + 2 * SYNAPSE_KB)


def test_equal_costs_keep_the_sorted_order_and_batches_of_a_tenth():
    # 40 cells, 2 ranks: batches of ceil(40 / 2 / 10) = 2 cells, alternating ranks
    usage = CellMemoryUsage({"B": 5.0, "A": 5.0}, {},
                            {"pop": {"B": list(range(20, 40)), "A": list(range(20))}})
    placed = allocate(usage, 2)["pop"]
    assert placed[(0, 0)][:4] == [0, 1, 4, 5] and placed[(1, 0)][:4] == [2, 3, 6, 7]
    assert sorted(placed[(0, 0)] + placed[(1, 0)]) == list(range(40))
    assert bucket_loads(usage, {"pop": placed}, 2) == [100.0, 100.0]


def test_written_as_the_reference_writes_it_and_read_back(tmp_path):
    path = tmp_path / "cell_memory_usage.json"
    RING.write(path)
    text = path.read_text()
    assert list(json.loads(text)) == ["metype_cell_syn_average", "metype_memory",
                                      "pop_metype_gids"] and "    " in text
    back = CellMemoryUsage.read(path)
    assert back == RING and back.describes(RING)
    other = CellMemoryUsage({}, {}, {"RingA": {"MTYPE0-ETYPE0": [0]}})
    assert not back.describes(other)  # other cells


def test_a_file_without_a_key_is_one_error_naming_file_and_key(tmp_path):
    path = tmp_path / "cell_memory_usage.json"
    path.write_text(json.dumps({"metype_memory": {}, "pop_metype_gids": {}}))
    with pytest.raises(ConfigError, match=r"cell_memory_usage.json, key 'metype_cell_syn_"):
        CellMemoryUsage.read(path)
