"""Bad input under `mpiexec -n 2`: one clear message (file and key named) printed once,
a non-zero exit, no hang (the subprocess timeout fails the test), no output spikes."""
import json

import h5py
import numpy as np
import pytest
from conftest import run_neurodamus

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

TIMEOUT = 120


def run_expecting_error(config, *expected):
    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=TIMEOUT)
    assert result.returncode != 0, result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus: error:")]
    assert len(errors) == 1, result.stderr  # printed once, by one rank
    message = result.stderr[result.stderr.index("neurodamus: error:"):]
    for text in expected:
        assert str(text) in message, message
    assert "Traceback" not in result.stderr
    return message


def test_config_file_missing(tmp_path):
    missing = tmp_path / "nope" / "simulation_config.json"
    run_expecting_error(missing, missing, "not found")


def test_nodes_file_missing(small_circuit):
    config = small_circuit()
    nodes = config.parent / "nodes.h5"
    nodes.unlink()
    run_expecting_error(config, nodes, "circuit_config.json", "networks.nodes.nodes_file")


def test_node_set_population_not_in_circuit(small_circuit):
    config = small_circuit()
    node_sets = config.parent / "extra_node_sets.json"
    node_sets.write_text(json.dumps({"ghosts": {"population": "ghost_population"}}))
    raw = json.loads(config.read_text())
    raw["node_sets_file"] = str(node_sets)
    raw["node_set"] = "ghosts"
    config.write_text(json.dumps(raw))
    run_expecting_error(config, "ghost_population", "node_set", node_sets)


def test_tstop_negative(small_circuit):
    config = small_circuit()
    raw = json.loads(config.read_text())
    raw["run"]["tstop"] = -10
    config.write_text(json.dumps(raw))
    run_expecting_error(config, config, "run.tstop", "positive")


def test_template_not_found(small_circuit):
    config = small_circuit()
    with h5py.File(config.parent / "nodes.h5", "r+") as f:
        templates = f["nodes/inh/0/model_template"]
        templates[...] = np.array(["hoc:NoSuchTemplate"] * templates.shape[0], dtype=object)
    run_expecting_error(config, "NoSuchTemplate", "population 'inh'", "not found")


def test_mechanism_that_does_not_compile(small_circuit, tmp_path):
    config = small_circuit()
    mechanisms = tmp_path / "circuit_mechanisms"
    mechanisms.mkdir()
    (mechanisms / "broken_channel.mod").write_text(
        "NEURON { SUFFIX broken_channel RANGE g }\nPARAMETER { g = 1 \nBREAKPOINT { oops here }\n")
    circuit_config = config.parent / "circuit_config.json"
    raw = json.loads(circuit_config.read_text())
    raw["components"]["mechanisms_dir"] = str(mechanisms)
    circuit_config.write_text(json.dumps(raw))
    run_expecting_error(config, "broken_channel.mod", "does not compile")


def test_failed_run_keeps_the_previous_spike_file(small_circuit):
    """A run that fails leaves the previous run's spike file as it was (it writes its own
    outputs in a staging directory, which it removes), and no summary claims anything."""
    config = small_circuit()
    output = config.parent / "output"
    output.mkdir(exist_ok=True)
    (output / "out.h5").write_text("previous")
    with h5py.File(config.parent / "nodes.h5", "r+") as f:
        templates = f["nodes/exc/0/model_template"]
        templates[...] = np.array(["hoc:NoSuchTemplate"] * templates.shape[0], dtype=object)
    run_expecting_error(config, "NoSuchTemplate")
    assert (output / "out.h5").read_text() == "previous"
    assert sorted(p.name for p in output.iterdir()) == ["out.h5"]
