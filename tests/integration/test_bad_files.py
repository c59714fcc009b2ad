"""Malformed files of every kind under `mpiexec -n 2`: a non-zero exit, exactly one
`neurodamus: error:` line naming the file and the key, no traceback, no HDF5-DIAG stack,
no line printed once per rank, well within the timeout."""

import json

import h5py
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

pytestmark = pytest.mark.mpi
TIMEOUT = 120


def assert_clean_error(result, *expected) -> str:
    """The one-line error contract; returns the message."""
    from conftest import assert_one_error

    message = assert_one_error(result, *expected)
    output = result.stdout + result.stderr
    assert "HDF5-DIAG" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    repeated = sorted({line for line in lines if lines.count(line) > 1})
    assert not repeated, output  # nothing printed once per rank
    return message


def run(config, *options):
    return run_neurodamus([config, "--no-progress", *options], ranks=2, timeout=TIMEOUT)


def edit_json(path, change):
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


@pytest.mark.parametrize("damage, reason", [
    (lambda data: data[: len(data) // 2], "is truncated"),
    (lambda data: b"", "is empty"),
    (lambda data: b"this is not HDF5\n" * 4, "is not an HDF5 file"),
])
def test_nodes_file_damaged(small_circuit, damage, reason):
    config = small_circuit()
    nodes = config.parent / "nodes.h5"
    nodes.write_bytes(damage(nodes.read_bytes()))
    assert_clean_error(run(config), nodes, reason, "circuit_config.json",
                       "networks.nodes.nodes_file")


def test_edges_file_not_hdf5(small_circuit):
    config = small_circuit()
    edges = config.parent / "edges_exc__inh__chemical.h5"
    edges.write_text("garbage\n")
    assert_clean_error(run(config), edges, "is not an HDF5 file", "networks.edges.edges_file",
                       "exc__inh__chemical")


def test_replay_file_not_hdf5(small_circuit):
    config = small_circuit()
    (config.parent / "replay.h5").write_text("garbage\n")
    edit_json(config, lambda raw: raw["inputs"].update(replay={
        "module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
        "spike_file": "replay.h5", "delay": 0, "duration": 50}))
    assert_clean_error(run(config), config.parent / "replay.h5", "is not an HDF5 file",
                       "inputs.replay.spike_file")


def test_checkpoint_manifest_not_json(small_circuit, tmp_path):
    config = small_circuit()
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "manifest.json").write_text("{broken")
    assert_clean_error(run(config, "--restore", checkpoint), checkpoint / "manifest.json",
                       "not valid JSON")


def test_swc_with_garbage(small_circuit):
    config = small_circuit()
    morphologies = sorted((config.parent / "morphologies").glob("exc_morph_*.swc"))
    for path in morphologies:
        path.write_text("garbage here\n1 2 x\n")
    message = assert_clean_error(run(config), "population 'exc'", "could not parse")
    assert any(str(path) in message for path in morphologies), message


def test_template_with_hoc_syntax_error(small_circuit):
    config = small_circuit()
    template = config.parent / "emodels" / "BrokenCell.hoc"
    template.write_text("begintemplate BrokenCell\nproc init() { x = = 3 }\n"
                        "endtemplate BrokenCell\n")
    with h5py.File(config.parent / "nodes.h5", "r+") as f:
        templates = f["nodes/inh/0/model_template"]
        templates[...] = np.array(["hoc:BrokenCell"] * templates.shape[0], dtype=object)
    assert_clean_error(run(config), template, "syntax error", "line 2", "population 'inh'")


def test_tstop_string_names_the_key(small_circuit):
    config = small_circuit()
    edit_json(config, lambda raw: raw["run"].update(tstop="100ms"))
    message = assert_clean_error(run(config), config, "run.tstop", "must be a number", "100ms")
    assert "json.exception" not in message


def test_circuit_config_wrong_type(small_circuit):
    config = small_circuit()
    circuit_config = config.parent / "circuit_config.json"
    edit_json(circuit_config, lambda raw: raw["networks"]["nodes"][0].update(nodes_file=3))
    assert_clean_error(run(config), circuit_config, "networks.nodes[0].nodes_file",
                       "must be a string")


def test_node_sets_not_json(small_circuit):
    config = small_circuit()
    node_sets = config.parent / "node_sets.json"
    node_sets.write_text("{not json")
    message = assert_clean_error(run(config), node_sets, "invalid node sets", "parse error")
    assert "problems" not in message  # the circuit's file is read once, not twice


def test_unknown_key_warns_once_and_strict_refuses(small_circuit):
    config = small_circuit()
    edit_json(config, lambda raw: raw.update(input=raw.pop("inputs")))
    warned = run(config, "--dry-run")
    assert_ok(warned)
    warning = f"unknown key 'input' in {config}: did you mean 'inputs'?"
    assert warned.stdout.count(warning) == 1, warned.stdout
    assert_clean_error(run(config, "--strict"), config, "key 'input'", "unknown key",
                       "did you mean 'inputs'?")


def test_spikes_file_in_a_sub_directory(small_circuit):
    config = small_circuit()
    edit_json(config, lambda raw: raw["output"].update(spikes_file="sub/out.h5"))
    assert_ok(run(config))
    output = config.parent / "output"
    assert (output / "sub" / "out.h5").is_file()
    assert not (output / "out.h5").exists()
