"""Bad circuit data found in bulk before anything is built from it: one error line naming
the file, population and attribute (no traceback, no hang), under 2 ranks; warnings once."""

import json

import h5py
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.reports.spikes import write_spikes

pytestmark = pytest.mark.mpi
TIMEOUT = 120
EXC_EXC = "exc__exc__chemical"


def _edit_edges(config, population, name, index, value):
    path = config.parent / f"edges_{population}.h5"
    with h5py.File(path, "r+") as f:
        group = f[f"edges/{population}"]
        dataset = group[name] if name in group else group["0"][name]
        dataset[index] = value
    return path


def _run(config):
    return run_neurodamus([config, "--no-progress"], ranks=2, timeout=TIMEOUT)


@pytest.mark.parametrize("attribute, index, value, expected", [
    ("afferent_section_id", 4, 500, "name no section of their cell (edge 4: 500"),  # the hang
    ("source_node_id", 4, 100, "beyond node population 'exc' (4 nodes) (edge 4: 100)"),
    ("target_node_id", 11, 100, "beyond node population 'exc' (4 nodes) (edge 11: 100)"),
    ("delay", 2, -1.0, "1 of 6 edges are negative (edge 2: -1)"),
    ("conductance", 3, np.nan, "are not finite (edge 3: nan)"),
    ("u_syn", 0, np.nan, "are not finite (edge 0: nan)"),
    ("decay_time", 7, np.inf, "are not finite (edge 7: inf)"),
    ("afferent_section_pos", 5, 1.7, "1 of 6 edges are outside [0, 1] (edge 5: 1.7)"),
])
def test_bad_edge_attribute_is_one_error(small_circuit, attribute, index, value, expected):
    config = small_circuit(tstop=10.0, inputs={})
    path = _edit_edges(config, EXC_EXC, attribute, index, value)
    assert_one_error(_run(config), path, f"population '{EXC_EXC}'", f"attribute '{attribute}'",
                     expected)


def test_node_set_id_beyond_population(small_circuit):
    config = small_circuit(tstop=10.0, inputs={})
    node_sets = config.parent / "node_sets.json"
    data = json.loads(node_sets.read_text())
    data["typo"] = {"population": "exc", "node_id": [1, 40, 41]}
    node_sets.write_text(json.dumps(data))
    simulation = json.loads(config.read_text())
    simulation["node_set"] = "typo"
    config.write_text(json.dumps(simulation))
    assert_one_error(_run(config), node_sets, "node set 'typo'", "attribute 'node_id'",
                     "2 of 3 node ids are beyond population 'exc' (4 nodes) (e.g. 40)")


def _replay_config(small_circuit, node_ids, times):
    config = small_circuit(tstop=10.0, inputs={"replay": {
        "module": "synapse_replay", "input_type": "spikes", "node_set": "All", "delay": 0.0,
        "duration": 10.0, "spike_file": "replay.h5"}})
    path = config.parent / "replay.h5"
    write_spikes(path, {"exc": (np.asarray(times, float), np.asarray(node_ids, np.int64))},
                 "by_time")
    return config, path


def test_replay_node_id_beyond_source_population_is_skipped_with_one_warning(small_circuit):
    config, path = _replay_config(small_circuit, [0, 9, 2], [1.0, 2.0, 3.0])
    result = _run(config)
    assert_ok(result)
    warnings = _warnings(result)
    assert len(warnings) == 1, result.stdout
    for text in (path, "inputs.replay.spike_file", "population 'exc'", "attribute 'node_ids'",
                 "1 of 3 spikes name nodes beyond the population (4 nodes) (spike 1: node 9), "
                 "skipped"):
        assert str(text) in warnings[0]


def _warnings(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("warning:")]


def test_negative_replay_times_warn_once(small_circuit):
    config, path = _replay_config(small_circuit, [0, 1, 2], [-2.0, 1.0, 3.0])
    result = _run(config)
    assert_ok(result)
    warnings = _warnings(result)
    assert len(warnings) == 1, result.stdout
    assert "attribute 'timestamps': 1 of 3 spikes have negative" in warnings[0]
    assert str(path) in warnings[0]


def test_delay_below_dt_warns_once_with_totals(small_circuit):
    config = small_circuit(tstop=10.0, inputs={})
    _edit_edges(config, EXC_EXC, "delay", 1, 0.01)  # target node 0 (rank 0)
    path = _edit_edges(config, EXC_EXC, "delay", 4, 0.0)  # target node 1 (rank 1)
    result = _run(config)
    assert_ok(result)
    warnings = _warnings(result)
    assert len(warnings) == 1, result.stdout
    assert (f"file {path}, population '{EXC_EXC}', attribute 'delay': 2 of 12 edges are below "
            "dt = 0.025 ms") in warnings[0]
    assert "(edge 1: 0.01" in warnings[0]
