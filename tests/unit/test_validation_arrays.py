"""The vectorised circuit-data checks on plain arrays (no files, no MPI)."""

import numpy as np
import pytest

from neurodamus.errors import CircuitError, ConfigError
from neurodamus.validation import (
    check_edge_values,
    check_node_set_ids,
    check_replay_spikes,
    check_section_ids,
)
from neurodamus.validation.arrays import BadValues, merge
from neurodamus.validation.edges import rank_slice


class FakeCell:
    def __init__(self, id_count):
        self.section_map = type("Map", (), {"id_count": id_count})()


class FakePointCell:
    @property
    def section_map(self):
        raise CircuitError("a point neuron has no sections")


def test_negative_delay_and_nan_named_with_count_and_example():
    ids = np.arange(10, 15)
    values = {"delay": np.array([1.0, -1.0, 2.0, -3.0, 1.0]),
              "conductance": np.array([1.0, 1.0, np.nan, 1.0, 1.0], np.float32),
              "syn_type_id": np.array([1, 2, 3, 4, 5])}
    with pytest.raises(CircuitError) as raised:
        check_edge_values("e.h5", "a__b", ids, values, dt=0.025)
    message = str(raised.value)
    assert message.startswith("population 'a__b', file e.h5: ")
    assert "attribute 'delay': 2 of 5 edges are negative (edge 11: -1)" in message
    assert "attribute 'conductance': 1 of 5 edges are not finite (edge 12: nan)" in message
    assert "syn_type_id" not in message


def test_delay_below_dt_is_a_warning_not_an_error():
    warnings = check_edge_values("e.h5", "p", np.arange(4), {"delay": [0.0, 0.5, 0.01, 3.0]},
                                 dt=0.025)
    assert [(w.attribute, w.count, w.total, w.example_id) for w in warnings] == \
        [("delay", 2, 4, 0)]
    assert check_edge_values("e.h5", "p", np.arange(2), {"delay": [0.1, 3.0]}, dt=0.025) == []


def test_warnings_of_ranks_merge_into_totals():
    a = BadValues("f", "p", "delay", "are below dt", 2, 10, 7, 0.0)
    b = BadValues("f", "p", "delay", "are below dt", 1, 5, 3, 0.01)
    other = BadValues("f", "q", "delay", "are below dt", 1, 5, 0, 0.0)
    merged = {m.population: m for m in merge([a, b, other])}
    assert (merged["p"].count, merged["p"].total, merged["p"].example_id) == (3, 15, 3)
    assert merged["q"].count == 1


def test_section_ids_checked_against_each_target_cells_count():
    cells = {0: FakeCell(5), 3: FakeCell(12), 4: FakePointCell()}
    check_section_ids("e.h5", "p", [0, 1, 2], [0, 3, 4], [4, 11, 999], cells)
    with pytest.raises(CircuitError, match=r"attribute 'afferent_section_id': 2 of 4 edges name "
                                           r"no section of their cell \(edge 21: 5, node 0 has "
                                           r"section ids 0 to 4\)"):
        check_section_ids("e.h5", "p", [20, 21, 22, 23], [3, 0, 0, 3], [11, 5, 0, -1], cells)


def test_rank_slices_cover_every_edge_once():
    for count, size in ((0, 2), (7, 3), (10, 4), (3, 5)):
        parts = [rank_slice(count, rank, size) for rank in range(size)]
        covered = np.concatenate([np.arange(a, b) for a, b in parts])
        assert covered.tolist() == list(range(count))


def test_node_set_ids_beyond_population_also_through_compounds():
    node_sets = {"a": {"population": "exc", "node_id": [0, 3, 4, 9]},
                 "b": {"node_id": 5}, "ok": {"population": "inh", "node_id": [1]},
                 "both": ["a", "ok", "both"]}
    sizes = {"exc": 4, "inh": 2}
    messages = check_node_set_ids(node_sets, ["both"], sizes)
    assert messages == [("node set 'a', attribute 'node_id': 2 of 4 node ids are beyond "
                         "population 'exc' (4 nodes) (e.g. 4)")]
    assert check_node_set_ids(node_sets, ["ok"], sizes) == []
    assert "populations ['exc', 'inh']" in check_node_set_ids(node_sets, ["b"], sizes)[0]


def test_replay_node_ids_beyond_and_negative_times_warn():
    sizes = {"exc": 4}
    warnings = check_replay_spikes({"exc": (np.array([-1.0, 2.0, np.nan]), np.array([0, 1, 3]))},
                                   sizes, "s.h5", "inputs.r.spike_file")
    assert len(warnings) == 1 and "2 of 3 spikes have negative or NaN times" in warnings[0]
    warnings = check_replay_spikes({"exc": (np.array([1.0, 2.0]), np.array([0, 4]))}, sizes,
                                   "s.h5", "inputs.r.spike_file")
    assert warnings == ["inputs.r.spike_file: file s.h5, population 'exc', attribute 'node_ids': "
                        "1 of 2 spikes name nodes beyond the population (4 nodes) (spike 1: "
                        "node 4), skipped"]
    with pytest.raises(ConfigError, match="population 'thalamus' is not in the circuit"):
        check_replay_spikes({"thalamus": (np.array([1.0]), np.array([0]))}, sizes, "s.h5",
                            "inputs.r.spike_file")


def test_checks_of_a_million_edges_are_fast():
    """Vectorised: well under a second for 1e6 edges (a per-edge Python loop takes ~1 s)."""
    import time

    n = 1_000_000
    rng = np.random.default_rng(0)
    ids = np.arange(n)
    values = {name: rng.uniform(0.1, 5, n) for name in (
        "delay", "conductance", "u_syn", "decay_time", "depression_time", "facilitation_time",
        "afferent_section_pos")}
    targets = rng.integers(0, 1000, n)
    cells = {k: FakeCell(200) for k in range(1000)}
    start = time.perf_counter()
    check_edge_values("e.h5", "p", ids, values, dt=0.025)
    check_section_ids("e.h5", "p", ids, targets, rng.integers(0, 200, n), cells)
    assert time.perf_counter() - start < 1.0
