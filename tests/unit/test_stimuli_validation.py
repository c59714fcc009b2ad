"""Input validation before any NEURON object exists: every SONATA input module is known,
its valid parameters are accepted (as libsonata accepts them), and each kind of mistake is
a problem naming the input's key."""

import json
import re
from typing import Any

import libsonata
import pytest

from neurodamus.config import load_settings
from neurodamus.config.checks import ProblemList
from neurodamus.config.inputs import load_inputs
from neurodamus.errors import ConfigError
from neurodamus.stimuli import STIMULUS_MODULES

# A minimal valid input of every module of the SONATA extension (synapse_replay aside).
VALID: dict[str, tuple[str, dict[str, Any]]] = {
    "linear": ("current_clamp", {"amp_start": 0.1}),
    "relative_linear": ("current_clamp", {"percent_start": 50}),
    "pulse": ("current_clamp", {"amp_start": 0.1, "width": 2, "frequency": 50}),
    "sinusoidal": ("current_clamp", {"amp_start": 0.1, "frequency": 10}),
    "subthreshold": ("current_clamp", {"percent_less": 20}),
    "hyperpolarizing": ("current_clamp", {}),
    "noise": ("current_clamp", {"mean": 0.1}),
    "shot_noise": ("current_clamp", {"rise_time": 0.5, "decay_time": 5, "rate": 100,
                                     "amp_mean": 0.1, "amp_var": 0.01}),
    "relative_shot_noise": ("conductance", {"rise_time": 0.5, "decay_time": 5,
                                            "mean_percent": 50, "sd_percent": 10}),
    "absolute_shot_noise": ("current_clamp", {"rise_time": 0.5, "decay_time": 5, "mean": 0.1,
                                              "sigma": 0.02}),
    "ornstein_uhlenbeck": ("conductance", {"tau": 5, "mean": 0.01, "sigma": 0.002}),
    "relative_ornstein_uhlenbeck": ("current_clamp", {"tau": 5, "mean_percent": 50,
                                                      "sd_percent": 10}),
    "seclamp": ("voltage_clamp", {"voltage": -70}),
    "spatially_uniform_e_field": ("extracellular_stimulation",
                                  {"fields": [{"Ex": 1, "Ey": 0, "Ez": 0}]}),
}


def raw_input(name, **changes):
    """The valid input of module `name`, with `changes` (None removes a key)."""
    input_type, parameters = VALID[name]
    raw = {"module": name, "input_type": input_type, "node_set": "All", "duration": 50.0,
           "delay": 0.0 if STIMULUS_MODULES[name].zero_delay else 5.0, **parameters}
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def problems_of(raw_inputs, **kwargs):
    problems = ProblemList("simulation_config.json")
    inputs = load_inputs(raw_inputs, problems, **kwargs)
    return inputs, [(key, message) for message, key, _ in problems.items]


def test_every_sonata_module_is_registered():
    assert set(VALID) <= set(STIMULUS_MODULES)


@pytest.mark.parametrize("module", sorted(VALID))
def test_valid_input_accepted_as_libsonata_accepts_it(module, tmp_path):
    raw = raw_input(module)
    inputs, problems = problems_of({"x": raw})
    assert problems == []
    assert inputs[0].module == module and inputs[0].node_set == "All"
    config = tmp_path / "simulation_config.json"
    config.write_text(json.dumps({"run": {"tstop": 100, "dt": 0.025, "random_seed": 1},
                                  "inputs": {"x": raw}}))
    assert libsonata.SimulationConfig.from_file(str(config)).input("x").module.name == module


@pytest.mark.parametrize("module, match", [("teleport", "unknown input module 'teleport'"),
                                           (None, "missing mandatory key")])
def test_unknown_module_lists_the_known_ones(module, match):
    _, problems = problems_of({"x": raw_input("linear", module=module)})
    [(key, message)] = problems
    assert key == "inputs.x.module" and match in message
    for known in VALID:
        assert known in message


@pytest.mark.parametrize("module, parameter", [
    (module, parameter) for module in sorted(VALID) for parameter in VALID[module][1]])
def test_missing_mandatory_parameter(module, parameter):
    if module == "noise":  # mean or mean_percent: tested below
        return
    _, problems = problems_of({"x": raw_input(module, **{parameter: None})})
    expected = (f"inputs.x.{parameter}", f"missing mandatory parameter of module '{module}'")
    assert expected in problems


@pytest.mark.parametrize("module, parameter, value", [
    ("linear", "amp_start", "big"),
    ("linear", "amp_end", [1, 2]),
    ("pulse", "width", True),
    ("linear", "represents_physical_electrode", 1),
    ("shot_noise", "random_seed", 1.5),
    ("seclamp", "voltage_levels", 3),
    ("spatially_uniform_e_field", "fields", {"Ex": 1}),
])
def test_parameter_of_the_wrong_type(module, parameter, value):
    _, problems = problems_of({"x": raw_input(module, **{parameter: value})})
    assert [key for key, _ in problems] == [f"inputs.x.{parameter}"]
    assert "must be" in problems[0][1] and repr(value) in problems[0][1]


@pytest.mark.parametrize("module, changes, key, match", [
    ("linear", {"duration": -1}, "duration", "must not be negative"),
    ("linear", {"delay": -0.5}, "delay", "must not be negative"),
    ("linear", {"duration": "long"}, "duration", "must be a number"),
    ("shot_noise", {"rate": -1}, "rate", "must not be negative"),
    ("shot_noise", {"amp_var": -0.1}, "amp_var", "must not be negative"),
    ("shot_noise", {"amp_mean": 0}, "amp_mean", "must not be 0"),
    ("shot_noise", {"dt": 0}, "dt", "must be positive"),
    ("shot_noise", {"rise_time": 5}, "rise_time", "smaller than decay_time"),
    ("shot_noise", {"rise_time": -1}, "rise_time", "must be positive"),
    ("relative_shot_noise", {"relative_skew": 1.0}, "relative_skew", r"in \[0, 1\)"),
    ("relative_shot_noise", {"mean_percent": -20}, "mean_percent", "positive for a conductance"),
    ("absolute_shot_noise", {"sigma": 0}, "sigma", "must be positive"),
    ("ornstein_uhlenbeck", {"tau": -2}, "tau", "must not be negative"),
    ("ornstein_uhlenbeck", {"sigma": -1}, "sigma", "must not be negative"),
    ("relative_ornstein_uhlenbeck", {"dt": -0.25}, "dt", "must be positive"),
    ("sinusoidal", {"frequency": -1}, "frequency", "must not be negative"),
    ("sinusoidal", {"dt": 0}, "dt", "must be positive"),
    # width or frequency 0: no pulses (the reference accepts them so), below 0 an error.
    ("pulse", {"width": -1}, "width", "must not be negative"),
    ("pulse", {"frequency": -1}, "frequency", "must not be negative"),
    ("pulse", {"width": 30}, "width", "overlap"),
    ("noise", {"mean_percent": 50}, "mean", "exactly one of mean and mean_percent"),
    ("noise", {"mean": None}, "mean", "exactly one of mean and mean_percent, got neither"),
    ("noise", {"variance": -1}, "variance", "must not be negative"),
    ("seclamp", {"series_resistance": 0}, "series_resistance", "must be positive"),
    ("seclamp", {"delay": 10}, "delay", "acts from t = 0: delay must be 0"),
    ("seclamp", {"duration_levels": [10], "voltage_levels": [-60, -50]}, "voltage_levels",
     "2 values for 1 duration_levels"),
    ("seclamp", {"duration_levels": [-10], "voltage_levels": [-60]}, "duration_levels",
     "must not be negative"),
    ("seclamp", {"duration_levels": ["10"], "voltage_levels": [-60]}, "duration_levels",
     "list of numbers"),
    ("spatially_uniform_e_field", {"fields": []}, "fields", "at least one field"),
    ("spatially_uniform_e_field", {"fields": [{"Ex": 1, "Ey": 0}]}, "fields[0].Ez",
     "missing mandatory"),
    ("spatially_uniform_e_field", {"fields": [{"Ex": 1, "Ey": 0, "Ez": 0, "frequency": -5}]},
     "fields[0].frequency", "must not be negative"),
    ("spatially_uniform_e_field", {"fields": [{"Ex": 1, "Ey": 0, "Ez": 0, "phase": 3.0}]},
     "fields[0].phase", r"\(-pi/2, pi/2\]"),
    ("spatially_uniform_e_field", {"fields": [{"Ex": 1, "Ey": 0, "Ez": 0, "Ew": 2}]},
     "fields[0].Ew", "unknown key"),
    ("spatially_uniform_e_field", {"ramp_down_time": -1}, "ramp_down_time", "must not be negative"),
    ("linear", {"input_type": "conductance"}, "input_type", "takes input_type current_clamp"),
    ("seclamp", {"input_type": "current_clamp"}, "input_type", "takes input_type voltage_clamp"),
    ("linear", {"input_type": None}, "input_type", "missing mandatory key"),
    ("linear", {"foo": 1}, "foo", "unknown parameter of module 'linear'"),
    ("linear", {"compartment_set": "somas"}, "node_set",
     "exactly one of node_set and compartment_set"),
    ("linear", {"node_set": None}, "node_set", "got neither"),
    ("linear", {"node_set": 3}, "node_set", "must be the name of a node set"),
])
def test_parameter_out_of_range_or_inconsistent(module, changes, key, match):
    inputs, problems = problems_of({"x": raw_input(module, **changes)})
    assert inputs == []
    assert len(problems) == 1, problems
    assert problems[0][0] == f"inputs.x.{key}"
    assert re.search(match, problems[0][1]), problems


def test_every_bad_input_reported_together():
    _, problems = problems_of({"a": raw_input("shot_noise", rate=-1),
                               "b": raw_input("ornstein_uhlenbeck", tau=-1),
                               "c": raw_input("linear")})
    assert [key for key, _ in problems] == ["inputs.a.rate", "inputs.b.tau"]


LIBSONATA_CLASSES = {  # module -> the class libsonata reads it into
    "linear": "Linear", "relative_linear": "RelativeLinear", "pulse": "Pulse",
    "sinusoidal": "Sinusoidal", "subthreshold": "Subthreshold",
    "hyperpolarizing": "Hyperpolarizing", "noise": "Noise", "shot_noise": "ShotNoise",
    "relative_shot_noise": "RelativeShotNoise", "absolute_shot_noise": "AbsoluteShotNoise",
    "ornstein_uhlenbeck": "OrnsteinUhlenbeck",
    "relative_ornstein_uhlenbeck": "RelativeOrnsteinUhlenbeck", "seclamp": "Seclamp",
    "spatially_uniform_e_field": "SpatiallyUniformEField", "synapse_replay": "SynapseReplay",
}


@pytest.mark.parametrize("module", sorted(LIBSONATA_CLASSES))
def test_every_libsonata_field_is_a_known_parameter(module):
    """Whatever libsonata reads for a module, our validation knows (the common keys aside)."""
    cls = getattr(libsonata.SimulationConfig, LIBSONATA_CLASSES[module])
    common = set(dir(libsonata.SimulationConfig.InputBase))
    fields = {name for name in dir(cls) if not name.startswith("_") and name not in common
              and not callable(getattr(cls, name))}
    stimulus = STIMULUS_MODULES[module]
    assert fields <= set(stimulus.required) | set(stimulus.optional) | {"fields"}


@pytest.mark.parametrize("module, changes", [
    ("pulse", {"amp_end": 0.0}),  # in the reference's own test configs; no effect
    ("pulse", {"width": 0}),  # no pulses
    ("pulse", {"frequency": 0}),
    ("relative_shot_noise", {"mean_percent": 0}),  # does nothing
    ("shot_noise", {"rate": 0}),
    ("sinusoidal", {"frequency": 0}),
])
def test_inputs_the_reference_accepts_are_accepted(module, changes):
    inputs, problems = problems_of({"x": raw_input(module, **changes)})
    assert problems == [] and len(inputs) == 1


def test_inputs_keep_the_config_order(small_circuit):
    """The order keys the noise modules' streams: the file's, not the names' (libsonata's
    expanded JSON sorts them)."""
    def add(raw):
        step = raw["inputs"]["step"]
        raw["inputs"] = {"zeta": dict(step), "step": step, "alpha": dict(step)}
    settings = load_settings(edit(small_circuit(), add))
    assert [i.name for i in settings.inputs] == ["zeta", "step", "alpha"]


# -- through load_settings: node sets and compartment sets ---------------------------------

def edit(config, change):
    raw = json.loads(config.read_text())
    change(raw)
    config.write_text(json.dumps(raw))
    return config


def with_compartment_sets(config, sets, input_changes=None):
    path = config.parent / "compartment_sets.json"
    path.write_text(json.dumps(sets))

    def change(raw):
        raw["compartment_sets_file"] = str(path)
        step = raw["inputs"]["step"]
        step.pop("node_set")
        step["compartment_set"] = "dendrites"
        step.update(input_changes or {})
    return edit(config, change), path


def test_input_node_set_must_be_defined(small_circuit):
    config = edit(small_circuit(),
                  lambda raw: raw["inputs"]["step"].__setitem__("node_set", "nobody"))
    with pytest.raises(ConfigError,
                       match=r"key 'inputs.step.node_set': node set 'nobody' is not defined"):
        load_settings(config)


def test_compartment_set_target_resolved(small_circuit):
    locations = [[0, 0, 0.5], [0, 2, 0.25], [3, 1, 0.75]]
    config, path = with_compartment_sets(
        small_circuit(), {"dendrites": {"population": "exc", "compartment_set": locations}})
    [step] = load_settings(config).inputs
    assert step.node_set is None
    target = step.compartment_set
    assert target is not None
    assert target.population == "exc" and target.file == path
    assert target.locations == tuple(tuple(location) for location in locations)


@pytest.mark.parametrize("sets, match", [
    ({"others": {"population": "exc", "compartment_set": [[0, 0, 0.5]]}},
     r"key 'inputs.step.compartment_set': compartment set 'dendrites' is not defined in .*json"),
    ({"dendrites": {"population": "exc", "compartment_set": [[1, 0, 0.5], [0, 0, 0.5]]}},
     r"compartment_sets.json.*strictly sorted"),
    ({"dendrites": {"population": "exc", "compartment_set": [[0, 0, 0.5], [0, 0, 0.5]]}},
     r"compartment_sets.json.*strictly sorted"),
    ({"dendrites": {"population": "ghosts", "compartment_set": [[0, 0, 0.5]]}},
     r"compartment_sets.json, key 'inputs.step.compartment_set': .*'ghosts'"),
])
def test_compartment_set_problems(small_circuit, sets, match):
    config, _ = with_compartment_sets(small_circuit(), sets)
    with pytest.raises(ConfigError, match=match):
        load_settings(config)


def test_compartment_set_needs_the_file(small_circuit):
    def change(raw):
        raw["inputs"]["step"].pop("node_set")
        raw["inputs"]["step"]["compartment_set"] = "dendrites"
    config = edit(small_circuit(), change)
    with pytest.raises(ConfigError, match=r"inputs.step.compartment_set.*compartment_sets_file"):
        load_settings(config)
