"""Refused before the run, with one `neurodamus: error:` line from one rank: what the run
would write where it cannot (a --save or --restore target that is a file, reports larger
than the free space), and a node set that selects nothing."""

import json

import pytest
from conftest import assert_one_error, run_neurodamus

pytestmark = pytest.mark.mpi


def _phases_started(result) -> list[str]:
    return [line.split()[0] for line in result.stdout.splitlines() if line[:1].isalpha()]


def test_a_report_larger_than_the_free_space_is_refused_before_the_run(small_circuit):
    config = small_circuit(tstop=1e9, inputs={})
    raw = json.loads(config.read_text())
    raw["reports"] = {"all_v": {"type": "compartment", "cells": "All", "sections": "all",
                                "variable_name": "v", "dt": 0.025, "start_time": 0.0,
                                "end_time": 1e9}}
    config.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    message = assert_one_error(result, config, "key 'reports.all_v'", "40000000000 frames",
                               "at least 6 elements (one per cell)", " TB in ",
                               "is free there")
    assert "cells" not in _phases_started(result), message  # refused before the build


@pytest.mark.parametrize("option", ["--save", "--restore"])
def test_a_checkpoint_target_that_is_a_file_is_refused_first(small_circuit, tmp_path, option):
    config = small_circuit(tstop=10.0, inputs={})
    target = tmp_path / "a file"
    target.write_text("")
    result = run_neurodamus([config, "--no-progress", option, target], ranks=2)
    assert_one_error(result, f"{option} {target}: is a file")
    assert "cells" not in _phases_started(result)


def test_an_empty_node_id_list_simulates_nothing(small_circuit):
    config = small_circuit(tstop=10.0, inputs={})
    node_sets = config.parent / "node_sets.json"
    node_sets.write_text(json.dumps({**json.loads(node_sets.read_text()),
                                     "none": {"population": "exc", "node_id": []}}))
    config.write_text(json.dumps({**json.loads(config.read_text()), "node_set": "none"}))
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, config, "key 'node_set'", "node set 'none' selects no cells",
                     "nothing to simulate")
    assert "cells" not in _phases_started(result)
