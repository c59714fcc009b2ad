"""The key table of the simulation config (unknown keys, JSON types), the HDF5 file check
and the checkpoint manifest reader, without MPI."""

import json
import logging

import h5py
import pytest

from neurodamus.checkpoint import CheckpointError, read_manifest
from neurodamus.config import load_settings
from neurodamus.config.checks import libsonata_reason
from neurodamus.config.known_keys import (
    circuit_type_problems,
    ignored_keys,
    type_problems,
    unknown_keys,
)
from neurodamus.errors import ConfigError
from neurodamus.hdf5_files import hdf5_problem, quiet_stderr


def test_unknown_keys_name_the_closest_known_key():
    raw = {"input": {}, "run": {"tstop": 1, "dt": 0.1, "random_seed": 1, "tsop": 2},
           "reports": {"soma": {"type": "compartment", "varible_name": "v"}},
           "connection_overrides": [{"name": "a", "source": "x", "target": "y", "wieght": 1}],
           "_comment": "ignored"}
    assert unknown_keys(raw) == [("input", "inputs"), ("run.tsop", "run.tstop"),
                                 ("reports.soma.varible_name", "reports.soma.variable_name"),
                                 ("connection_overrides[0].wieght", "connection_overrides[0].weight")]
    assert unknown_keys({"zzzzzz": 1}) == [("zzzzzz", None)]


def test_keys_sonata_defines_but_the_driver_ignores_are_not_unknown():
    raw = {"run": {"tstop": 1, "tstart": 0}, "output": {"overwrite_output_dir": True}}
    assert unknown_keys(raw) == []
    assert ignored_keys(raw) == ["run.tstart", "output.overwrite_output_dir"]


def test_type_problems_name_the_key():
    raw = {"run": {"tstop": "100ms", "dt": True, "random_seed": 1},
           "output": {"spikes_file": 3}, "conditions": {"randomize_gaba_rise_time": "yes"},
           "node_set": ["a"]}
    assert dict(type_problems(raw)) == {
        "run.tstop": "must be a number, got '100ms'", "run.dt": "must be a number, got True",
        "output.spikes_file": "must be a string, got 3",
        "conditions.randomize_gaba_rise_time": "must be true or false, got 'yes'",
        "node_set": "must be a string, got ['a']"}
    assert type_problems({"run": {"tstop": 10, "dt": 0.025, "random_seed": 3}}) == []


def test_circuit_type_problems_name_the_entry():
    raw = {"manifest": {"$BASE_DIR": "."}, "components": {"morphologies_dir": 7},
           "networks": {"nodes": [{"nodes_file": 3, "populations": {"p": {"type": "virtual"}}}],
                        "edges": [{"edges_file": "e.h5", "populations": []}]}}
    assert dict(circuit_type_problems(raw)) == {
        "components.morphologies_dir": "must be a string, got 7",
        "networks.nodes[0].nodes_file": "must be a string, got 3",
        "networks.edges[0].populations": "must be an object, got []"}


def test_libsonata_reason_drops_the_json_library_code():
    error = RuntimeError("[json.exception.type_error.302] type must be number, but is string")
    assert libsonata_reason(error) == "type must be number, but is string"


def test_hdf5_problem_says_why(tmp_path):
    good = tmp_path / "good.h5"
    with h5py.File(good, "w") as f:
        f.create_dataset("x", data=list(range(1000)))
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:1000])
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5 at all\n" * 100)
    assert hdf5_problem(good) is None
    assert str(hdf5_problem(truncated)).startswith("is truncated (1000 of ")
    assert hdf5_problem(empty) == "is empty"
    assert hdf5_problem(text) == "is not an HDF5 file"
    assert hdf5_problem(tmp_path / "missing.h5") == "not found"


def test_quiet_stderr_captures_what_c_code_prints():
    import os

    with quiet_stderr() as captured:
        os.write(2, b"HDF5-DIAG: noise\n")
    assert captured == ["HDF5-DIAG: noise\n"]


@pytest.mark.parametrize("text, reason", [
    ("{broken", "is not valid JSON"), ("[1, 2]", "is not a JSON object"),
    (json.dumps({"format": 2}), "lacks time, ranks, identity, checksums")])
def test_manifest_problems_are_one_checkpoint_error(tmp_path, text, reason):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(text)
    with pytest.raises(CheckpointError, match=reason) as raised:
        read_manifest(manifest)
    assert str(manifest) in str(raised.value)


def _edit(config, change):
    raw = json.loads(config.read_text())
    change(raw)
    config.write_text(json.dumps(raw))


def test_load_settings_warns_on_unknown_keys_and_strict_refuses(small_circuit, tmp_path, caplog):
    config = small_circuit()
    _edit(config, lambda raw: raw.update(input=raw.pop("inputs")))
    with caplog.at_level(logging.WARNING, logger="neurodamus"):
        settings = load_settings(config, cache_root=tmp_path)
    assert settings.inputs == ()
    assert [r.getMessage() for r in caplog.records] == [
        f"neurodamus: warning: unknown key 'input' in {config}: did you mean 'inputs'?"]
    with pytest.raises(ConfigError, match=r"key 'input': unknown key: did you mean 'inputs'\?"):
        load_settings(config, cache_root=tmp_path, strict=True)


def test_tstop_string_is_named_before_libsonata(small_circuit, tmp_path):
    config = small_circuit()
    _edit(config, lambda raw: raw["run"].update(tstop="100ms"))
    with pytest.raises(ConfigError, match=r"key 'run.tstop': must be a number, got '100ms'"):
        load_settings(config, cache_root=tmp_path)


def test_spikes_file_keeps_its_sub_directory(small_circuit, tmp_path):
    config = small_circuit()
    _edit(config, lambda raw: raw["output"].update(spikes_file="sub/out.h5"))
    assert load_settings(config, cache_root=tmp_path).output.spikes_file == "sub/out.h5"
    moved = load_settings(config, output_dir=tmp_path / "elsewhere", cache_root=tmp_path)
    assert moved.output.output_dir / moved.output.spikes_file == tmp_path / "elsewhere/sub/out.h5"
