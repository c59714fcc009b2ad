"""--modelbuilding-steps N (multicycle.py) on a generated circuit: the model built in cycles and
run by CoreNEURON from disk gives the spikes of one cycle bit for bit, on 1 and 2 ranks, and
those of the in-memory CoreNEURON run to CoreNEURON's text precision; what the offline path
cannot carry is refused naming the key; under NEURON the option is ignored with one line."""

import json

import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi
DRIVE = {"module": "noise", "input_type": "current_clamp", "node_set": "All", "delay": 5,
         "duration": 45, "mean": 0.3, "variance": 0.05}


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    directory = tmp_path_factory.mktemp("multicycle")
    spec = CircuitSpec(populations=[PopulationSpec("exc", 9, "exc"),
                                    PopulationSpec("inh", 4, "inh")],
                       edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 4, 1.0),
                              EdgeSpec("inh", "exc", 2, 1.0)], seed=5)
    return directory, build_circuit(directory, spec)


@pytest.fixture(scope="module")
def config(circuit):
    directory, circuit_config = circuit
    return write_simulation_config(directory / "spikes", circuit_config, tstop=50.0,
                                   node_set="All", inputs={"drive": DRIVE},
                                   extra={"target_simulator": "CORENEURON"})


def spikes(output) -> dict:
    return read_spikes_by_population(output / "out.h5", ordered=True)


def run(config, output, *args, ranks=1):
    result = run_neurodamus([config, "--output-path", output, "--no-progress", *args],
                            ranks=ranks)
    assert_ok(result)
    return spikes(output), json.loads((output / "run_summary.json").read_text()), result


@pytest.fixture(scope="module")
def runs(config):
    """{label: (spikes, run summary)}: in memory; 1 and 3 cycles on 1 rank; 2 on 2 ranks."""
    out = {}
    for label, args, ranks in (("direct", (), 1), ("1", ("--modelbuilding-steps", "1"), 1),
                               ("3", ("--modelbuilding-steps", "3"), 1),
                               ("2x2", ("--modelbuilding-steps", "2"), 2)):
        got, summary, _ = run(config, config.parent / f"out_{label}", *args, ranks=ranks)
        out[label] = got, summary
    return out


def test_cycles_give_the_spikes_of_one_build(runs):
    one, _ = runs["1"]
    assert sum(times.size for times, _ in one.values()) > 20  # the cells fire
    for label in ("3", "2x2"):
        got, summary = runs[label]
        assert summary["modelbuilding_steps"] == int(label[0])
        assert got.keys() == one.keys()
        for population in one:  # bit for bit: the same model, read from the same files
            np.testing.assert_array_equal(got[population][0], one[population][0])
            np.testing.assert_array_equal(got[population][1], one[population][1])


def test_cycles_give_the_spikes_of_the_in_memory_run(runs, config):
    """Equal node ids; times within 1e-9 ms (CoreNEURON's out.dat prints them as text), far
    below a step (0.025 ms). The model's files are gone once it ran."""
    direct, _ = runs["direct"]
    cycled, summary = runs["3"]
    assert "modelbuilding_steps" not in runs["direct"][1]
    for population in direct:
        np.testing.assert_array_equal(cycled[population][1], direct[population][1])
        np.testing.assert_allclose(cycled[population][0], direct[population][0], rtol=0,
                                   atol=1e-9)
    assert not list((config.parent / "out_3").rglob("coreneuron_input"))
    assert sum(1 for phase in summary["phases"] if phase["name"] == "cells") == 3


def test_frame_reports_are_refused_with_cycles(circuit):
    directory, circuit_config = circuit
    reports = {"soma": {"type": "compartment", "cells": "All", "variable_name": "v",
                        "sections": "soma", "dt": 1.0, "start_time": 0.0, "end_time": 10.0}}
    config = write_simulation_config(directory / "reports", circuit_config, tstop=10.0,
                                     node_set="All", reports=reports,
                                     extra={"target_simulator": "CORENEURON"})
    result = run_neurodamus([config, "--output-path", directory / "reports" / "out",
                             "--modelbuilding-steps", "2"])
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus:")]
    assert len(errors) == 1 and "key 'reports.soma'" in errors[0], result.stderr
    assert "--disable-reports" in errors[0]
    assert not (directory / "reports" / "out" / "out.h5").exists()


def test_neuron_ignores_the_steps_with_one_line(config, runs):
    got, summary, result = run(config, config.parent / "out_neuron", "--simulator", "NEURON",
                               "--modelbuilding-steps", "4")
    assert "--modelbuilding-steps 4 ignored" in result.stdout + result.stderr
    assert "modelbuilding_steps" not in summary and summary["simulator"] == "NEURON"
    direct, _ = runs["direct"]  # NEURON and CoreNEURON agree on these spikes
    for population in direct:
        np.testing.assert_array_equal(got[population][1], direct[population][1])


def _build_peak(summary) -> float:
    """The peak resident MB when the build was done (each phase's ru_maxrss, run_summary)."""
    phases = summary["phases"]
    first_run = next(i for i, phase in enumerate(phases) if phase["name"] == "run")
    return max(phase["peak_memory_mb"] for phase in phases[:first_run])


def test_four_cycles_build_with_less_memory(tmp_path):
    """150 cells with 30 synapses each: NEURON's copy of the model is ~30 MB, so building a
    quarter at a time lowers the build's peak by well over the allocator's noise (~1 MB;
    benchmarks/multicycle_memory.py measured 117 MB against 100 MB), with the same spikes."""
    spec = CircuitSpec(populations=[PopulationSpec("exc", 120, "exc"),
                                    PopulationSpec("inh", 30, "inh")],
                       edges=[EdgeSpec("exc", "exc", 30, 1.0), EdgeSpec("exc", "inh", 30, 1.0),
                              EdgeSpec("inh", "exc", 8, 1.0)], seed=7)
    config = write_simulation_config(tmp_path, build_circuit(tmp_path, spec), tstop=20.0,
                                     node_set="All", inputs={"drive": DRIVE},
                                     extra={"target_simulator": "CORENEURON"})
    one, one_summary, _ = run(config, tmp_path / "one", "--modelbuilding-steps", "1")
    four, four_summary, _ = run(config, tmp_path / "four", "--modelbuilding-steps", "4")
    assert _build_peak(four_summary) < _build_peak(one_summary) - 8.0
    assert sum(times.size for times, _ in one.values()) > 0
    for population in one:
        np.testing.assert_array_equal(four[population][0], one[population][0])
        np.testing.assert_array_equal(four[population][1], one[population][1])
