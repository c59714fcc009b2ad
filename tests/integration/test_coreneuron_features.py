"""Everything that runs under NEURON runs under CoreNEURON (--simulator CORENEURON) with the
same spikes, on 1 and 2 ranks: the example circuit; the checkpoint tests' features
(stochastic synapses, minis, gap junctions, replay, noise and shot-noise inputs, a ramp,
delayed connection overrides); the other stimulus modules, replay onto a node set that
covers only some targets of its sources, and checkpoints: saved under one solver and
restored under the other, on another rank count, periodic with an atomic LATEST,
SIGTERM, refusal of another simulation. What CoreNEURON truly cannot simulate is one error
naming the feature. (Frame reports under CoreNEURON are tested with the reports.)

Each run here is the driver on real ranks; NEURON reference runs are made once per module.
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import MPIEXEC, assert_ok, assert_one_error, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_poisson_spikes,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

TSTOP = 200.0
CORE = ("--simulator", "CORENEURON")
QUIET = ("--no-progress",)


def run(config, output, *args, ranks=1, **kwargs):
    result = run_neurodamus([config, "--output-path", output, *QUIET, *args], ranks=ranks,
                            **kwargs)
    assert_ok(result)
    return result


def spikes(output):
    return read_spikes_by_population(output / "out.h5")


def assert_same_spikes(expected, actual, at_least=20):
    """The same cells spiking at bit-equal times, in the same order."""
    assert sorted(expected) == sorted(actual)
    assert sum(times.size for times, _ in expected.values()) >= at_least
    for population in expected:
        np.testing.assert_array_equal(actual[population][1], expected[population][1])
        np.testing.assert_array_equal(actual[population][0], expected[population][0])


def latest(save_dir):
    return save_dir / (save_dir / "LATEST").read_text().strip()


# -- the checkpoint tests' features -------------------------------------------------------

def build_features(directory):
    """Stochastic synapses with minis, gap junctions, replay of a virtual population, white
    noise and shot noise, a ramp through an electrode, and two delayed overrides (at 60 ms
    a weight and a synapse_configure, at 150 ms a weight); no frame reports."""
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 10, "exc", mini_frequencies=(1.0, 1.0)),
                     PopulationSpec("inh", 4, "inh"), PopulationSpec("thalamus", 6, "virtual")],
        edges=[EdgeSpec("exc", "exc", 5, 1.5), EdgeSpec("exc", "inh", 6, 1.0),
               EdgeSpec("inh", "exc", 4, 1.0), EdgeSpec("thalamus", "exc", 4, 2.0)],
        gap_junctions=[GapJunctionSpec("inh", pairs=3, conductance=1.0)], seed=21)
    circuit = build_circuit(directory, spec)
    write_poisson_spikes(directory / "thalamus.h5", "thalamus", range(6), rate=30.0, tstop=TSTOP)
    inputs = {
        "ramp": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                 "amp_start": 0.3, "amp_end": 0.4, "delay": 10.0, "duration": TSTOP - 20,
                 "represents_physical_electrode": True},
        "replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
                   "spike_file": "thalamus.h5", "delay": 0.0, "duration": TSTOP},
        "noise": {"module": "noise", "input_type": "current_clamp", "node_set": "inh",
                  "mean": 0.05, "variance": 0.002, "delay": 0.0, "duration": TSTOP},
        "shots": {"module": "shot_noise", "input_type": "conductance", "node_set": "exc",
                  "rise_time": 0.5, "decay_time": 5.0, "rate": 200.0, "amp_mean": 0.002,
                  "amp_var": 1e-6, "reversal": 0.0, "delay": 0.0, "duration": TSTOP}}
    overrides = [{"name": "early", "source": "exc", "target": "exc", "weight": 1.5, "delay": 60.0,
                  "synapse_configure": "%s.Use = 0.7"},
                 {"name": "late", "source": "exc", "target": "inh", "weight": 1.5, "delay": 150.0}]
    return write_simulation_config(directory, circuit, tstop=TSTOP, inputs=inputs, node_set="All",
                                   extra={"connection_overrides": overrides})


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    """(config, NEURON's spikes on 1 rank)."""
    directory = tmp_path_factory.mktemp("features")
    config = build_features(directory)
    run(config, directory / "neuron")
    return config, spikes(directory / "neuron")


@pytest.fixture(scope="module")
def core_checkpoint(features, tmp_path_factory):
    """Saved under CoreNEURON on 2 ranks at 60 ms, where the first override is due (it is
    applied before the save, and again after a restore: harmless)."""
    config, _ = features
    directory = tmp_path_factory.mktemp("core_checkpoint")
    run(config, directory / "first", *CORE, "--save", directory / "saved", "--save-time", 60,
        ranks=2)
    manifest = json.loads((latest(directory / "saved") / "manifest.json").read_text())
    assert manifest["time"] == pytest.approx(60.0) and manifest["ranks"] == 2
    first = spikes(directory / "first")
    assert all(times.max() <= 60.0 for times, _ in first.values() if times.size)
    return directory / "saved"


@pytest.mark.parametrize("ranks", [1, 2])
def test_coreneuron_gives_neuron_spikes(features, tmp_path, ranks):
    config, expected = features
    run(config, tmp_path / "core", *CORE, ranks=ranks)
    assert json.loads((tmp_path / "core" / "run_summary.json").read_text())["simulator"] == \
        "CORENEURON"
    assert_same_spikes(expected, spikes(tmp_path / "core"))


def test_saved_under_neuron_restores_under_coreneuron_on_another_rank_count(features, tmp_path):
    config, expected = features
    run(config, tmp_path / "first", "--save", tmp_path / "saved", "--save-time", TSTOP / 2,
        ranks=2)
    run(config, tmp_path / "rest", *CORE, "--restore", tmp_path / "saved", ranks=1)
    assert_same_spikes(expected, spikes(tmp_path / "rest"))


@pytest.mark.parametrize("simulator", ["NEURON", "CORENEURON"])
def test_saved_under_coreneuron_restores_on_another_rank_count(features, core_checkpoint,
                                                               tmp_path, simulator):
    config, expected = features
    run(config, tmp_path / "rest", "--simulator", simulator, "--restore", core_checkpoint,
        ranks=1)
    assert_same_spikes(expected, spikes(tmp_path / "rest"))


def test_killed_during_a_periodic_save_under_coreneuron_leaves_the_previous(features, tmp_path):
    """--checkpoint-every under CoreNEURON; rank 1 dies in the second save: LATEST still
    names the first checkpoint, which restores to the uninterrupted spikes."""
    config, expected = features
    saved = tmp_path / "saved"
    env = dict(os.environ, NEURODAMUS_FAULT="kill-in-save:1:2")
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(config),
                             "--output-path", str(tmp_path / "killed"), *CORE, "--save",
                             str(saved), "--checkpoint-every", "50", *QUIET],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert not (tmp_path / "killed" / "out.h5").exists()
    assert (saved / "LATEST").read_text().strip() == "checkpoint-t50.000"
    run(config, tmp_path / "rest", *CORE, "--restore", saved, ranks=1)
    assert_same_spikes(expected, spikes(tmp_path / "rest"))


def test_restore_into_another_simulation_is_refused_under_coreneuron(features, core_checkpoint,
                                                                     tmp_path):
    config, _ = features
    raw = json.loads(config.read_text())
    raw["node_set"] = "exc"
    narrowed = config.parent / "narrowed.json"
    narrowed.write_text(json.dumps(raw))
    result = run_neurodamus([narrowed, "--output-path", tmp_path / "x", *CORE, "--restore",
                             core_checkpoint, *QUIET], ranks=2, timeout=120)
    assert_one_error(result, "made for another simulation",
                     "node_set: checkpoint has 'All', this run has 'exc'")


def test_sigterm_under_coreneuron_saves_and_stops_cleanly(features, tmp_path):
    config, _ = features
    raw = json.loads(config.read_text())
    raw["run"]["tstop"] = 100000.0
    long_config = config.parent / "long.json"
    long_config.write_text(json.dumps(raw))
    saved = tmp_path / "saved"
    process = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus",
                                str(long_config), "--output-path", str(tmp_path / "out"), *CORE,
                                "--save", str(saved), "--checkpoint-on-term"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip().startswith("t = "):
                break
        else:
            raise AssertionError("the run ended before showing progress")
        process.send_signal(signal.SIGTERM)  # mpiexec forwards it to every rank
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "stopped on SIGTERM" in output
    assert json.loads((latest(saved) / "manifest.json").read_text())["time"] > 0
    assert not (tmp_path / "out" / "out.h5").exists()  # the run did not finish


# -- the other stimuli, replay onto part of its sources' targets, a delayed override ------

STIMULI = {
    "ou": {"module": "ornstein_uhlenbeck", "input_type": "current_clamp", "node_set": "exc",
           "tau": 5.0, "mean": 0.1, "sigma": 0.05, "delay": 5.0, "duration": 90.0},
    "relative_ou": {"module": "relative_ornstein_uhlenbeck", "input_type": "current_clamp",
                    "node_set": "inh", "tau": 3.0, "mean_percent": 50, "sd_percent": 20,
                    "delay": 0.0, "duration": 100.0},
    "relative_shots": {"module": "relative_shot_noise", "input_type": "current_clamp",
                       "node_set": "exc", "rise_time": 0.5, "decay_time": 5.0,
                       "mean_percent": 80, "sd_percent": 30, "delay": 10.0, "duration": 80.0},
    "absolute_shots": {"module": "absolute_shot_noise", "input_type": "conductance",
                       "node_set": "exc", "rise_time": 0.5, "decay_time": 5.0, "mean": 0.002,
                       "sigma": 0.001, "reversal": 0.0, "delay": 0.0, "duration": 100.0},
    "pulses": {"module": "pulse", "input_type": "current_clamp", "node_set": "inh",
               "amp_start": 0.3, "width": 2.0, "frequency": 50.0, "delay": 20.0, "duration": 50.0},
    "sine": {"module": "sinusoidal", "input_type": "current_clamp", "node_set": "exc",
             "amp_start": 0.1, "frequency": 20.0, "delay": 0.0, "duration": 100.0},
    "hyper": {"module": "hyperpolarizing", "input_type": "current_clamp", "node_set": "inh",
              "delay": 0.0, "duration": 100.0},
    "sub": {"module": "subthreshold", "input_type": "current_clamp", "node_set": "exc",
            "percent_less": -40, "delay": 30.0, "duration": 40.0},
    "clamp": {"module": "seclamp", "input_type": "voltage_clamp", "node_set": "exc_one",
              "voltage": -70.0, "duration": 60.0, "duration_levels": [10.0, 30.0],
              "voltage_levels": [-20.0, -60.0], "delay": 0.0},
    "noise": {"module": "noise", "input_type": "current_clamp", "node_set": "inh",
              "mean_percent": 100, "variance": 0.01, "delay": 0.0, "duration": 100.0},
    # The thalamic cells also reach exc cells outside exc_some: replay reaches only these.
    "replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "exc_some",
               "spike_file": "thalamus.h5", "delay": 5.0, "duration": 80.0},
}


@pytest.fixture(scope="module")
def stimuli(tmp_path_factory):
    """(config, NEURON's spikes on 1 rank) of a small circuit with every other stimulus
    module, the partial replay and an override at 40.0125 ms (half a step after 40 ms)."""
    directory = tmp_path_factory.mktemp("stimuli")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 6, "exc", mini_frequencies=(1.0, 1.0)),
                     PopulationSpec("inh", 3, "inh"), PopulationSpec("thalamus", 4, "virtual")],
        edges=[EdgeSpec("exc", "exc", 3, 1.5), EdgeSpec("exc", "inh", 3, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0), EdgeSpec("thalamus", "exc", 4, 3.0)],
        node_sets={"exc_one": {"population": "exc", "node_id": [5]},
                   "exc_some": {"population": "exc", "node_id": [0, 1, 2]}}, seed=5)
    circuit = build_circuit(directory, spec)
    write_poisson_spikes(directory / "thalamus.h5", "thalamus", range(4), rate=80.0, tstop=100.0)
    overrides = [{"name": "later", "source": "inh", "target": "exc", "weight": 3.0,
                  "delay": 40.0125}]
    config = write_simulation_config(directory, circuit, tstop=100.0, inputs=STIMULI,
                                     node_set="All", extra={"connection_overrides": overrides})
    run(config, directory / "neuron")
    return config, spikes(directory / "neuron")


def test_every_other_stimulus_and_partial_replay_under_coreneuron(stimuli, tmp_path):
    config, expected = stimuli
    run(config, tmp_path / "core", *CORE, ranks=2)
    assert_same_spikes(expected, spikes(tmp_path / "core"))


# -- the example circuit -------------------------------------------------------------------

@pytest.fixture(scope="module")
def example(example_dir):
    """The bundled example (replay, minis, gap junctions, shot noise, an override, a
    compartment and a summation report), 300 ms."""
    raw = json.loads((example_dir / "simulation_config.json").read_text())
    raw["run"]["tstop"] = 300.0
    config = example_dir / "short.json"
    config.write_text(json.dumps(raw))
    run(config, example_dir / "neuron_short")
    return config, spikes(example_dir / "neuron_short")


@pytest.mark.parametrize("ranks", [1, 2])
def test_example_under_coreneuron(example, tmp_path, ranks):
    config, expected = example
    run(config, tmp_path / "core", *CORE, ranks=ranks)
    assert_same_spikes(expected, spikes(tmp_path / "core"), at_least=100)


def test_cell_permute_under_coreneuron_keeps_the_spikes(example, tmp_path):
    """--cell-permute node-adjacency reorders CoreNEURON's nodes in memory (its
    cell_permute = 1): the same spikes as NEURON."""
    config, expected = example
    run(config, tmp_path / "permuted", *CORE, "--cell-permute", "node-adjacency")
    assert_same_spikes(expected, spikes(tmp_path / "permuted"), at_least=100)


# -- what CoreNEURON cannot simulate -------------------------------------------------------

def test_point_neurons_are_refused_under_coreneuron(tmp_path):
    """NEURON's IntFire1 is not in CoreNEURON's library: one error before the first step
    (CoreNEURON itself would abort the job)."""
    from neurodamus.testing.point_style import Nodes, build_point_style_circuit

    circuit = build_point_style_circuit(tmp_path, [Nodes("cells", 3, "nrn:IntFire1", dynamics={
        "tau": 0.02, "refrac": 0.003})], [])
    config = write_simulation_config(tmp_path, circuit, tstop=10.0, node_set="All")
    result = run_neurodamus([config, "--output-path", tmp_path / "out", *CORE, *QUIET], ranks=2)
    assert_one_error(result, "CoreNEURON cannot simulate NEURON's IntFire1", "point neurons",
                     "--simulator NEURON")
    assert not (tmp_path / "out" / "out.h5").exists()


def test_changes_are_due_at_the_step_nearest_their_time():
    """RunControl.actions: at the end of the step nearest the time (half a step down)."""
    from neurodamus.run import _Actions

    dt = 0.025
    done = []
    actions = _Actions([(t, lambda t=t: done.append(t)) for t in (60.02, 0.01, 60.0125, 60.0)], dt)
    assert actions.stop_times() == pytest.approx([0.0, 60.0, 60.0, 60.025])
    actions.run_due(0.0)
    assert done == [0.01]
    actions.run_due(60.000000000004)
    assert done == [0.01, 60.0, 60.0125]  # time order, then the order given
    actions.run_due(60.025)
    assert done == [0.01, 60.0, 60.0125, 60.02]
