"""Report settings: every problem is found in the config phase, named by report and key."""

import json

import pytest

from neurodamus.config import load_settings
from neurodamus.errors import ConfigError


def report(**values):
    """A report's JSON; a value None leaves that key out."""
    raw = {"type": "compartment", "variable_name": "v", "start_time": 0.0, "end_time": 40.0,
           "dt": 0.1, **values}
    return {key: value for key, value in raw.items() if value is not None}


def with_reports(config, reports, **top_level):
    raw = json.loads(config.read_text())
    raw["reports"] = reports
    raw.update(top_level)
    config.write_text(json.dumps(raw))
    return config


def test_every_type_read_into_frozen_settings(small_circuit, tmp_path):
    sets = tmp_path / "compartment_sets.json"
    sets.write_text(json.dumps({"somas": {"population": "exc", "compartment_set": [[0, 0, 0.5]]}}))
    config = with_reports(small_circuit(tstop=40.0), {
        "soma": report(),
        "dendrites": report(sections="dend", unit="millivolt", file_name="dendrites_v"),
        "currents": report(type="summation", variable_name="i_membrane, IClamp", sections="all",
                           scaling="none", cells="exc", end_time=100.0),
        "conductances": report(type="synapse", variable_name="NdTmExc.g", dt=0.5),
        "set": report(type="compartment_set", compartment_set="somas"),
        "off": report(variable_name="no_such_variable", enabled=False),
    }, compartment_sets_file=str(sets))
    settings = load_settings(config)
    by_name = {r.name: r for r in settings.reports}
    assert sorted(by_name) == ["conductances", "currents", "dendrites", "set", "soma"]  # not "off"

    soma = by_name["soma"]
    assert (soma.type, soma.sections, soma.compartments, soma.unit) == ("compartment", "soma",
                                                                         "center", "mV")
    assert (soma.start_time, soma.end_time, soma.dt, soma.frame_count) == (0.0, 40.0, 0.1, 400)
    assert soma.file_name == "soma.h5" and soma.cells == "All"  # default: the simulated node set
    assert by_name["dendrites"].compartments == "all"  # libsonata's default for non-soma
    dendrites = by_name["dendrites"]
    assert dendrites.unit == "millivolt" and dendrites.file_name == "dendrites_v.h5"

    currents = by_name["currents"]
    assert currents.end_time == 40.0  # clipped to run.tstop
    assert currents.cells == "exc" and currents.scaling == "none" and currents.unit == "nA"
    membrane, clamp = currents.variables
    assert (membrane.attribute, membrane.mechanism, membrane.sign) == ("i_membrane_", None, 1.0)
    assert (clamp.attribute, clamp.mechanism, clamp.sign) == ("i", "IClamp", -1.0)

    conductance = by_name["conductances"].variables[0]
    assert (conductance.mechanism, conductance.attribute, by_name["conductances"].unit) == (
        "NdTmExc", "g", "uS")  # the unit declared in NdTmExc.mod
    assert by_name["set"].compartment_set.locations == ((0, 0, 0.5),)
    with pytest.raises(AttributeError):
        soma.dt = 1.0  # frozen


@pytest.mark.parametrize("values, key, match", [
    (dict(variable_name="vv"), "soma.variable_name", r"unknown variable 'vv'"),
    (dict(variable_name="IClamp"), "soma.variable_name", r"'IClamp' is a point process"),
    (dict(variable_name="v, ina"), "soma.variable_name", r"records one variable"),
    (dict(type="summation", variable_name="IClamp.volt"), "soma.variable_name",
     r"'IClamp' has no variable 'volt'"),
    (dict(type="synapse", variable_name="NdTmInh.g_AMPA"), "soma.variable_name",
     r"'NdTmInh' has no variable 'g_AMPA'"),
    (dict(type="synapse", variable_name="nothing_has_this"), "soma.variable_name",
     r"no point process has a variable"),
    (dict(type="lfp", variable_name=None, electrodes_file="nowhere.h5"), "soma.electrodes_file",
     r"electrodes file .*nowhere.h5 not found"),
    (dict(type="volume"), "soma.type", r"unknown report type 'volume'"),
    (dict(sections="myelin"), "soma.sections",
     r"'myelin' is not one of soma, axon, dend, apic, all"),
    (dict(compartments="middle"), "soma.compartments", r"'middle' is not one of center, all"),
    (dict(dt=0.01), "soma.dt", r"0.01 is smaller than the simulation dt 0.025"),
    (dict(dt=0.03), "soma.dt", r"0.03 is not a multiple of the simulation dt"),
    (dict(dt="fast"), "soma.dt", r"must be a number"),
    (dict(start_time=20.0, end_time=10.0), "soma.end_time", r"10.0 is not after start_time 20.0"),
    (dict(start_time=0.01), "soma.start_time", r"does not fall on a time step"),
    (dict(start_time=50.0, end_time=60.0), "soma.start_time", r"is not before run.tstop"),
    (dict(cells="nobody"), "soma.cells", r"node set 'nobody' is not defined"),
    (dict(type="compartment_set"), "soma.compartment_set", r"must name its compartment_set"),
    (dict(compartment_set="somas"), "soma.compartment_set", r"only compartment_set reports"),
    (dict(file_name="out.h5"), "soma.file_name", r"is the spikes file"),
])
def test_problem_named_by_report_and_key(small_circuit, values, key, match):
    config = with_reports(small_circuit(tstop=40.0), {"soma": report(**values)})
    with pytest.raises(ConfigError, match=match) as error:
        load_settings(config)
    assert f"key 'reports.{key}'" in str(error.value)


def test_missing_mandatory_key_named(small_circuit):
    broken = report()
    del broken["dt"]
    with pytest.raises(ConfigError, match=r"key 'reports.soma.dt': missing mandatory key"):
        load_settings(with_reports(small_circuit(tstop=40.0), {"soma": broken}))


def test_two_reports_writing_one_file(small_circuit):
    config = with_reports(small_circuit(tstop=40.0), {
        "a": report(file_name="same"), "b": report(file_name="same.h5")})
    with pytest.raises(ConfigError, match=r"key 'reports.b.file_name': writes the same file "
                                          r"same.h5 as report 'a'"):
        load_settings(config)


def test_all_report_problems_reported_together(small_circuit):
    config = with_reports(small_circuit(tstop=40.0), {
        "a": report(variable_name="vv"), "b": report(dt=0.001), "c": report(end_time=-1.0)})
    with pytest.raises(ConfigError, match=r"3 problems") as error:
        load_settings(config)
    for key in ("reports.a.variable_name", "reports.b.dt", "reports.c.end_time"):
        assert key in str(error.value)


def test_mechanism_of_the_circuit_known_before_it_is_compiled(small_circuit, tmp_path):
    """A variable of the circuit's own mod file is accepted: read from the NMODL source."""
    mod_dir = tmp_path / "circuit_mod"
    mod_dir.mkdir()
    (mod_dir / "leak.mod").write_text(
        "NEURON { SUFFIX myleak NONSPECIFIC_CURRENT i RANGE g }\n"
        "PARAMETER { g = 0.001 (S/cm2) }\nASSIGNED { i (mA/cm2) v (mV) }\n"
        "BREAKPOINT { i = g * v }\n")
    config = small_circuit(tstop=40.0)
    circuit_config = config.parent / "circuit_config.json"
    raw = json.loads(circuit_config.read_text())
    raw["components"]["mechanisms_dir"] = str(mod_dir)
    circuit_config.write_text(json.dumps(raw))
    settings = load_settings(with_reports(config, {
        "leak": report(type="summation", variable_name="i_myleak", sections="all")}))
    variable = settings.reports[0].variables[0]
    assert variable.attribute == "i_myleak" and variable.density  # mA/cm2: scaled by area


def test_compartment_set_must_exist(small_circuit, tmp_path):
    sets = tmp_path / "compartment_sets.json"
    sets.write_text(json.dumps({"somas": {"population": "exc", "compartment_set": [[0, 0, 0.5]]}}))
    config = with_reports(small_circuit(tstop=40.0), {
        "set": report(type="compartment_set", compartment_set="dendrites")},
        compartment_sets_file=str(sets))
    with pytest.raises(ConfigError, match=r"key 'reports.set.compartment_set': compartment set "
                                          r"'dendrites' is not defined"):
        load_settings(config)
