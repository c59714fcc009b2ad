"""What a run needs, checked when the config is read: node sets as written (an empty
`node_id` list selects nothing), node-set cycles named, inputs that make no waveform."""

import json

import libsonata
import pytest

from neurodamus.config import load_settings
from neurodamus.errors import ConfigError
from neurodamus.validation import node_set_cycle


def _with_node_sets(config, **extra):
    path = config.parent / "node_sets.json"
    data = json.loads(path.read_text())
    data.update(extra)
    path.write_text(json.dumps(data))
    return path


def test_an_empty_node_id_list_selects_nothing(small_circuit):
    """libsonata's toJSON drops `node_id: []`, which read back meant all of `exc`."""
    config = small_circuit(tstop=10.0, inputs={})
    _with_node_sets(config, empty={"population": "exc", "node_id": []})
    settings = load_settings(config)
    node_sets = libsonata.NodeSets(settings.node_sets_json)
    nodes = libsonata.CircuitConfig.from_file(str(settings.circuit.config_file))
    exc = nodes.node_population("exc")
    assert node_sets.materialize("empty", exc).flatten().size == 0
    assert node_sets.materialize("exc", exc).flatten().size == 4


def test_an_empty_node_set_is_a_warning_for_an_input(small_circuit):
    raw = {"module": "linear", "input_type": "current_clamp", "node_set": "none",
           "delay": 1.0, "duration": 5.0, "amp_start": 0.2}
    config = small_circuit(tstop=10.0, inputs={"drive": raw})
    _with_node_sets(config, none=["nobody"], nobody={"population": "exc", "node_id": []})
    assert load_settings(config).warnings == (
        "inputs.drive.node_set: node set 'none' selects no cells (node_id is empty): it does "
        "nothing",)


def test_node_sets_that_include_each_other_are_named(small_circuit):
    config = small_circuit(tstop=10.0, inputs={})
    path = _with_node_sets(config, a=["b"], b=["exc", "c"], c=["a"])
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert str(error.value) == (f"file {path}: node sets 'a' -> 'b' -> 'c' -> 'a' include each "
                                "other: a cycle")


def test_cycle_finder():
    assert node_set_cycle({"a": ["b"], "b": {"population": "x"}}) is None
    assert node_set_cycle({"a": ["a"]}) == ["a", "a"]
    assert node_set_cycle({"x": ["y"], "y": ["z", "x"], "z": []}) == ["x", "y", "x"]


@pytest.mark.parametrize("module, parameters, duration, reason", [
    ("pulse", {"amp_start": 0.2, "width": 2.0, "frequency": 0}, 50.0, "frequency 0"),
    ("pulse", {"amp_start": 0.2, "width": 0, "frequency": 10.0}, 50.0, "width 0"),
    ("sinusoidal", {"amp_start": 0.2, "frequency": 0}, 50.0, "frequency 0"),
    ("shot_noise", {"rise_time": 0.4, "decay_time": 4.0, "rate": 0, "amp_mean": 0.1,
                    "amp_var": 0.01}, 50.0, "rate 0"),
    ("linear", {"amp_start": 0.2}, 0.0, "duration 0"),
])
def test_an_input_that_makes_no_waveform_is_a_warning(small_circuit, module, parameters,
                                                      duration, reason):
    raw = {"module": module, "input_type": "current_clamp", "node_set": "exc", "delay": 1.0,
           "duration": duration, **parameters}
    settings = load_settings(small_circuit(tstop=10.0, inputs={"idle": raw}))
    assert settings.warnings == (f"inputs.idle: {reason} makes no waveform: module "
                                 f"'{module}' does nothing",)


def test_width_longer_than_the_period_is_an_error(small_circuit):
    raw = {"module": "pulse", "input_type": "current_clamp", "node_set": "exc", "delay": 1.0,
           "duration": 5.0, "amp_start": 0.2, "width": 200.0, "frequency": 10.0}
    with pytest.raises(ConfigError, match="inputs.idle.width.*overlap"):
        load_settings(small_circuit(tstop=10.0, inputs={"idle": raw}))
