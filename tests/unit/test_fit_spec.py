"""The fit spec is read and checked whole before anything runs: every mistake is named by
the spec file and its key; the parameter scales and the losses against numbers worked out
independently."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from neurodamus.errors import ConfigError
from neurodamus.fit.parameters import BaseConfig
from neurodamus.fit.spec import load_fit_spec
from neurodamus.fit.targets import RateError, Rates, van_rossum


@pytest.fixture
def simulation_config(tmp_path):
    path = tmp_path / "simulation_config.json"
    path.write_text(json.dumps({
        "network": "circuit_config.json", "run": {"tstop": 10, "dt": 0.025, "random_seed": 1},
        "output": {"output_dir": "out"},
        "inputs": {"step": {"module": "linear", "input_type": "current_clamp",
                            "node_set": "All", "amp_start": 0.1, "delay": 0, "duration": 5}},
        "connection_overrides": [{"name": "ee", "source": "All", "target": "All",
                                  "weight": 2.0}]}))
    (tmp_path / "circuit_config.json").write_text(json.dumps({"networks": {"nodes": [],
                                                                            "edges": []}}))
    return path


def _spec(tmp_path, config_path, **changes):
    spec = {"simulation_config": config_path.name,
            "parameters": [{"name": "w", "bounds": [0.1, 10], "scale": "log",
                            "apply": {"connection_override": {"name": "ee",
                                                              "field": "weight"}}},
                           {"name": "amp", "bounds": [0, 1], "initial": 0.2,
                            "apply": {"input": {"input": "step", "field": "amp_start"}}}],
            "targets": [{"name": "r", "type": "rates", "rates": {"pop": 5.0}}],
            "optimiser": {"method": "cma", "budget": 10}}
    spec.update(changes)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(spec))
    return path


def _error(path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_fit_spec(path)
    return str(raised.value)


def test_a_good_spec_reads(tmp_path, simulation_config):
    spec = load_fit_spec(_spec(tmp_path, simulation_config))
    w, amp = spec.parameters
    assert w.initial == pytest.approx(1.0)  # geometric middle of a log scale
    assert amp.initial == 0.2
    assert spec.output_dir == tmp_path / "fit_output"
    assert spec.optimiser.seed == 1


@pytest.mark.parametrize("change, key, words", [
    ({"optimiser": {"method": "bfgs", "budget": 3}}, "optimiser.method", "known: cma"),
    ({"optimiser": {"method": "cma"}}, "optimiser.budget", "is required"),
    ({"ranks_per_candidate": 0}, "ranks_per_candidate", ">= 1"),
    ({"targets": [{"name": "t", "type": "trace"}]}, "targets[0].type", "report, spikes"),
    ({"targets": [{"name": "t", "type": "report", "file": "missing.h5", "report": "v"}]},
     "targets[0].file", "does not exist"),
    ({"targets": [{"name": "t", "type": "rates", "rates": {"pop": 5}, "loss": "rms"}]},
     "targets[0].loss", "scores 'report' targets"),
    ({"simulation_config": "nope.json"}, "simulation_config", "does not exist"),
    ({"extra": 1}, "extra", "unknown key"),
])
def test_each_mistake_names_the_key(tmp_path, simulation_config, change, key, words):
    message = _error(_spec(tmp_path, simulation_config, **change))
    assert f"file {tmp_path / 'fit.json'}" in message
    assert f"key '{key}'" in message and words in message, message


@pytest.mark.parametrize("parameter, key, words", [
    ({"name": "x", "bounds": [0, 1], "scale": "log", "apply": {"config": {"key": "a.b"}}},
     "parameters[1].bounds", "above 0"),
    ({"name": "x", "bounds": [2, 1], "apply": {"config": {"key": "a.b"}}},
     "parameters[1].bounds", "below high"),
    ({"name": "x", "bounds": [0, 1], "initial": 3, "apply": {"config": {"key": "a.b"}}},
     "parameters[1].initial", "outside the bounds"),
    ({"name": "x", "bounds": [0, 1], "apply": {"neuron": {}}}, "parameters[1].apply",
     "unknown kind 'neuron'"),
    ({"name": "x", "bounds": [0, 1], "apply": {"sections": {"node_set": "All"}}},
     "parameters[1].apply.sections.variable", "is required"),
    ({"name": "x", "bounds": [0, 1],
      "apply": {"connection_override": {"source": "A", "target": "B", "field": "tau"}}},
     "parameters[1].apply.connection_override.field", "weight"),
    ({"name": "w", "bounds": [0, 1], "apply": {"config": {"key": "a.b"}}},
     "parameters[1].name", "used by another"),
])
def test_each_parameter_mistake_names_the_key(tmp_path, simulation_config, parameter, key,
                                              words):
    first = {"name": "w", "bounds": [0.1, 10], "apply": {"config": {"key": "run.tstop"}}}
    message = _error(_spec(tmp_path, simulation_config, parameters=[first, parameter]))
    assert f"key '{key}'" in message and words in message, message


def test_config_names_are_checked_against_the_simulation_config(tmp_path, simulation_config):
    spec = load_fit_spec(_spec(tmp_path, simulation_config, parameters=[
        {"name": "a", "bounds": [0, 1], "apply": {"input": {"input": "stim", "field": "amp"}}},
        {"name": "b", "bounds": [0, 1],
         "apply": {"connection_override": {"name": "ie", "field": "weight"}}}]))
    with pytest.raises(ConfigError) as raised:
        BaseConfig(spec.simulation_config).check(spec.file, spec.parameters)
    message = str(raised.value)
    assert "2 problems" in message
    assert "key 'parameters[0].apply.input.input'" in message and "has no input 'stim'" in message
    assert "key 'parameters[1].apply.connection_override.name'" in message


def test_values_reach_the_config_through_its_own_mechanisms(tmp_path, simulation_config):
    spec = load_fit_spec(_spec(tmp_path, simulation_config, parameters=[
        {"name": "w", "bounds": [0.1, 10], "apply": {"connection_override": {"name": "ee",
                                                                             "field": "weight"}}},
        {"name": "tau", "bounds": [1, 10], "apply": {"connection_override": {
            "source": "A", "target": "B", "variable": "tau_d_AMPA"}}},
        {"name": "g", "bounds": [1e-5, 1e-3], "apply": {"sections": {
            "node_set": "All", "section_list": "basal", "variable": "g_pas"}}},
        {"name": "gnat", "bounds": [0, 1], "apply": {"mechanism": {"suffix": "NaTg",
                                                                   "variable": "vshift"}}},
        {"name": "amp", "bounds": [0, 1], "apply": {"input": {"input": "step",
                                                              "field": "amp_start"}}}]))
    base = BaseConfig(spec.simulation_config)
    config = base.with_values(spec.parameters, {"w": 3.0, "tau": 2.5, "g": 2e-4, "gnat": 0.5,
                                                "amp": 0.7}, tmp_path / "o")
    assert config["connection_overrides"][0] == {"name": "ee", "source": "All",
                                                 "target": "All", "weight": 3.0}
    assert config["connection_overrides"][1] == {"name": "fit_tau", "source": "A", "target": "B",
                                                 "synapse_configure": "%s.tau_d_AMPA = 2.5"}
    assert config["conditions"]["modifications"] == [
        {"name": "fit_g", "node_set": "All", "type": "section_list",
         "section_configure": "basal.g_pas = 0.0002"}]
    assert config["conditions"]["mechanisms"] == {"NaTg": {"vshift": 0.5}}
    assert config["inputs"]["step"]["amp_start"] == 0.7
    assert config["network"] == str(tmp_path / "circuit_config.json")  # absolute: runs anywhere
    assert base.raw["connection_overrides"][0]["weight"] == 2.0  # the base is not changed


def test_scales_map_bounds_to_the_unit_interval(tmp_path, simulation_config):
    w, amp = load_fit_spec(_spec(tmp_path, simulation_config)).parameters
    assert w.from_unit(0.0) == pytest.approx(0.1) and w.from_unit(1.0) == pytest.approx(10)
    assert w.from_unit(0.5) == pytest.approx(1.0)  # log: the geometric middle
    assert amp.from_unit(0.25) == pytest.approx(0.25)
    assert w.to_unit(w.from_unit(0.3)) == pytest.approx(0.3)
    assert w.from_unit(1.7) == pytest.approx(10)  # clipped to the bounds


def _van_rossum_numeric(first, second, tau, stop=200.0, dt=0.001):
    """The definition: the trains filtered by exp(-t/tau), the squared difference
    integrated over time, divided by tau (a Riemann sum)."""
    t = np.arange(0, stop, dt)

    def filtered(train):
        return sum(np.where(t >= s, np.exp(-(t - s) / tau), 0.0) for s in train) + 0 * t
    return math.sqrt(np.sum((filtered(first) - filtered(second)) ** 2) * dt / tau)


@pytest.mark.parametrize("first, second", [([10.0], []), ([10.0], [13.0]),
                                           ([10.0, 30.0, 31.0], [12.0, 50.0]), ([5.0], [5.0])])
def test_van_rossum_against_its_definition(first, second):
    expected = _van_rossum_numeric(first, second, tau=5.0)
    assert van_rossum(np.array(first), np.array(second), 5.0) == pytest.approx(expected,
                                                                               abs=2e-3)


def test_rate_error_is_relative():
    target = Rates({"E": 10.0, "I": 20.0}, {"E": 16, "I": 4})
    assert RateError().score(target, {"E": 11.0, "I": 18.0}, None) == pytest.approx(
        math.sqrt((0.1 ** 2 + 0.1 ** 2) / 2))


def test_the_worked_example_is_ready_to_run(tmp_path):
    """configs/fit-example (docs/fit.md): its YAML spec reads, its simulation config and a
    candidate's config check out, and its target is read, without simulating."""
    from conftest import REPOSITORY

    from neurodamus.fit.command import _prepare

    spec = load_fit_spec(REPOSITORY / "configs" / "fit-example" / "fit.yaml", tmp_path / "out")
    assert [p.name for p in spec.parameters] == ["g_pas", "amp", "gap"]
    base, data, cached = _prepare(spec, (), None)
    assert cached == {}
    assert data["soma"].data.shape == (2, 300)  # both cells, 150 ms at 0.5 ms
    candidate = json.loads((tmp_path / "out" / "work" / "check" /
                            "simulation_config.json").read_text())
    assert Path(candidate["network"]).parent == tmp_path / "out" / "work" / "check" / "changed_circuit"


def test_unreadable_specs_name_the_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("simulation_config: [\n")
    assert "not valid YAML" in _error(tmp_path / "bad.yaml")
    assert "\n" not in _error(tmp_path / "bad.yaml")  # one line
    assert "fit spec not found" in _error(tmp_path / "none.yaml")


def test_circuit_kinds_change_copies_of_the_files(tmp_path):
    """edges and nodes parameters: the candidate runs copies of the HDF5 files with the
    attribute scaled or set (only on the node set's rows), the circuit's own untouched."""
    import h5py

    from neurodamus.fit.spec import Parameter
    from neurodamus.testing.fit_circuits import build_two_cell

    config = build_two_cell(tmp_path / "two")
    gap = Parameter("gap", 0.1, 10, "log", 1.0, "edges",
                    {"population": "pair__pair__electrical", "attribute": "conductance"}, "p0")
    hold = Parameter("hold", -1, 1, "linear", 0.0, "nodes",
                     {"population": "pair", "attribute": "dynamics_params/holding_current",
                      "node_set": "second", "mode": "set"}, "p1")
    base = BaseConfig(config)
    base.check(tmp_path / "fit.json", (gap, hold))
    candidate = base.with_values((gap, hold), {"gap": 2.5, "hold": -0.3}, tmp_path / "c" / "out")
    network = Path(candidate["network"])
    assert network == tmp_path / "c" / "changed_circuit" / "circuit_config.json"
    circuit = json.loads(network.read_text())
    edges = [e["edges_file"] for e in circuit["networks"]["edges"]]
    assert str(network.parent / "edges_pair__pair__electrical.h5") in edges
    assert str(tmp_path / "two" / "circuit" / "edges_pair__pair__chemical.h5") in edges
    with h5py.File(network.parent / "edges_pair__pair__electrical.h5") as copy:
        assert copy["edges/pair__pair__electrical/0/conductance"][:].tolist() == [2.5, 2.5]
    with h5py.File(network.parent / "nodes.h5") as copy:
        assert copy["nodes/pair/0/dynamics_params/holding_current"][:].tolist() == [0.0, -0.3]
    with h5py.File(tmp_path / "two" / "circuit" / "edges_pair__pair__electrical.h5") as own:
        assert own["edges/pair__pair__electrical/0/conductance"][:].tolist() == [1.0, 1.0]
    wrong = Parameter("x", 0.1, 10, "log", 1.0, "edges",
                      {"population": "pair__pair__electrical", "attribute": "weight"}, "p2")
    with pytest.raises(ConfigError, match="key 'p2.apply.edges.attribute'.*has no"):
        base.check(tmp_path / "fit.json", (wrong,))


def test_a_checkpoint_answers_only_the_same_fit(tmp_path, simulation_config):
    """Resuming answers points of the optimiser's [0, 1] space from the checkpoint, so a
    spec whose bounds (or targets, or optimiser) changed must not reuse it."""
    from neurodamus.fit.outputs import History, Record, load_checkpoint, write_checkpoint

    spec = load_fit_spec(_spec(tmp_path, simulation_config))
    spec.output_dir.mkdir()
    point = np.array([0.1, 1 / 3])
    write_checkpoint(spec, History(records=[Record(point, spec.values(point), 0.5, {"r": 0.5},
                                                   1.0, 0, 0)]))
    saved = load_checkpoint(spec)
    assert list(saved) == [f"{0.1.hex()},{(1 / 3).hex()}"] and saved[list(saved)[0]]["loss"] == 0.5
    wider = load_fit_spec(_spec(tmp_path, simulation_config, parameters=[
        {"name": "w", "bounds": [0.1, 20], "scale": "log",
         "apply": {"connection_override": {"name": "ee", "field": "weight"}}},
        {"name": "amp", "bounds": [0, 1], "initial": 0.2,
         "apply": {"input": {"input": "step", "field": "amp_start"}}}]))
    with pytest.raises(ConfigError, match="its parameters differ"):
        load_checkpoint(wider)


def test_a_bmtk_config_starts_a_fit_as_its_strict_copy(tmp_path):
    """A fit starts from a bmtk-layout config (config.json wrapper, manifest) as from the
    strict config it stands for: the candidate's copy has the same network, inputs and run,
    and the driver reads it."""
    from neurodamus.config import load_settings
    from neurodamus.fit.spec import Parameter
    from neurodamus.testing.bmtk_layout import rewrite_in_bmtk_layout
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )

    spec = CircuitSpec(populations=[PopulationSpec("exc", 3, "exc")],
                       edges=[EdgeSpec("exc", "exc", per_target=2, conductance=1.0)], seed=5)
    circuit = build_circuit(tmp_path / "strict", spec)
    step = {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
            "amp_start": 0.3, "delay": 5.0, "duration": 20.0}
    strict = write_simulation_config(tmp_path / "strict", circuit, tstop=30.0,
                                     inputs={"step": step}, random_seed=0)
    wrapper = rewrite_in_bmtk_layout(circuit, strict, tmp_path / "bmtk", virtual=set())
    amp = Parameter("amp", 0.0, 1.0, "linear", 0.5, "input",
                    {"input": "step", "field": "amp_start"}, "parameters[0]")
    settings = []
    for start in (strict, wrapper):
        base = BaseConfig(start, tmp_path / "cache")
        base.check(tmp_path / "fit.json", (amp,))
        candidate = base.with_values((amp,), {"amp": 0.42}, tmp_path / start.parent.name / "o")
        assert candidate["inputs"]["step"]["amp_start"] == 0.42
        path = tmp_path / f"{start.parent.name}_candidate.json"
        path.write_text(json.dumps(candidate))
        settings.append(load_settings(path, cache_root=tmp_path / "cache"))
    ours, theirs = settings
    assert [i.parameters["amp_start"] for i in ours.inputs] == \
        [i.parameters["amp_start"] for i in theirs.inputs] == [0.42]
    assert ours.run.tstop == theirs.run.tstop == 30.0
    assert [p.name for p in ours.circuit.node_populations] == \
        [p.name for p in theirs.circuit.node_populations]
