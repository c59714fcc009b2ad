"""Settings validation: every problem is a ConfigError naming the file and the key."""

import json

import pytest

from neurodamus.config import load_settings
from neurodamus.errors import ConfigError


def edit(config, change):
    raw = json.loads(config.read_text())
    change(raw)
    config.write_text(json.dumps(raw))
    return config


def test_valid_config_reads_every_section(small_circuit):
    settings = load_settings(small_circuit(tstop=40.0))
    assert settings.run.tstop == 40.0 and settings.run.dt == 0.025
    assert settings.conditions.celsius == 6.3 and settings.conditions.v_init == -65.0
    assert settings.output.spikes_file == "out.h5" and settings.output.spikes_sort_order == "by_time"
    assert [p.name for p in settings.circuit.node_populations] == ["exc", "inh"]
    assert settings.inputs[0].module == "linear" and settings.inputs[0].parameters["amp_start"] == 0.4


def test_missing_file_named(tmp_path):
    with pytest.raises(ConfigError, match="simulation config not found"):
        load_settings(tmp_path / "missing.json")


def test_invalid_json_named(tmp_path):
    path = tmp_path / "simulation_config.json"
    path.write_text('{"run": ')
    with pytest.raises(ConfigError, match=r"simulation_config.json.*not valid JSON"):
        load_settings(path)


@pytest.mark.parametrize("section, key, value, match", [
    ("run", "tstop", -1.0, r"key 'run.tstop': must be positive"),
    ("run", "dt", 0.0, r"key 'run.dt': must be positive"),
    ("run", "dt", 1000.0, r"key 'run.dt': .* larger than run.tstop"),
])
def test_run_values_checked(small_circuit, section, key, value, match):
    config = edit(small_circuit(), lambda raw: raw[section].__setitem__(key, value))
    with pytest.raises(ConfigError, match=match):
        load_settings(config)


def test_all_problems_reported_together(small_circuit):
    def change(raw):
        raw["run"]["tstop"] = -1
        raw["inputs"]["step"]["node_set"] = "nowhere"
    with pytest.raises(ConfigError, match=r"2 problems") as error:
        load_settings(edit(small_circuit(), change))
    assert "run.tstop" in str(error.value) and "inputs.step.node_set" in str(error.value)


def test_unknown_module_lists_known_ones(small_circuit):
    def change(raw):
        raw["inputs"]["step"]["module"] = "teleport"
    with pytest.raises(ConfigError, match=r"module.*teleport"):
        load_settings(edit(small_circuit(), change))


def test_missing_mandatory_input_parameter(small_circuit):
    config = edit(small_circuit(), lambda raw: raw["inputs"]["step"].pop("amp_start"))
    with pytest.raises(ConfigError, match=r"amp_start"):
        load_settings(config)


def test_wrong_parameter_type(small_circuit):
    config = edit(small_circuit(), lambda raw: raw["inputs"]["step"].__setitem__("amp_end", "big"))
    with pytest.raises(ConfigError, match=r"inputs.step.amp_end"):
        load_settings(config)


def test_unknown_node_set(small_circuit):
    config = edit(small_circuit(), lambda raw: raw.__setitem__("node_set", "nobody"))
    with pytest.raises(ConfigError, match=r"key 'node_set': node set 'nobody' is not defined"):
        load_settings(config)


def test_missing_circuit_config(small_circuit):
    config = edit(small_circuit(), lambda raw: raw.__setitem__("network", "elsewhere.json"))
    with pytest.raises(ConfigError, match=r"key 'network': circuit config .*elsewhere.json not found"):
        load_settings(config)


def test_missing_edges_file(small_circuit):
    config = small_circuit()
    edges = next(config.parent.glob("edges_inh__exc*.h5"))
    edges.unlink()
    with pytest.raises(ConfigError, match=rf"{edges.name} not found.*"):
        load_settings(config)
