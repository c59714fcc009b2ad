"""A small circuit driven only by the noise modules (one through a compartment set), run
by neurodamus on 1 and on 2 MPI ranks: the spikes must be the same, exactly. Each cell's
noise comes from its own stream keyed by (stimulus_seed, gid, input), so which rank builds
the cell, and in which order, changes nothing.

No extracellular field here: NEURON's extracellular mechanism couples all the cells of a
rank in one sparse matrix solve, so a cell's voltage then depends on its rank's other
cells at round-off level (1e-11 mV), which spiking amplifies (see efield.py)."""

import json

import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.reports import read_spikes_by_population

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

INPUTS = {
    "background": {"module": "relative_shot_noise", "input_type": "current_clamp",
                   "node_set": "All", "delay": 0.0, "duration": 300.0, "rise_time": 0.5,
                   "decay_time": 4.0, "mean_percent": 120, "sd_percent": 60},
    "exc_noise": {"module": "noise", "input_type": "current_clamp", "node_set": "exc",
                  "delay": 20.0, "duration": 250.0, "mean": 0.1, "variance": 0.04},
    "inh_ou": {"module": "ornstein_uhlenbeck", "input_type": "current_clamp", "node_set": "inh",
               "delay": 10.0, "duration": 280.0, "tau": 5.0, "mean": 0.15, "sigma": 0.1},
    "dendritic": {"module": "shot_noise", "input_type": "conductance",
                  "compartment_set": "proximal", "delay": 0.0, "duration": 300.0,
                  "rise_time": 0.3, "decay_time": 3.0, "rate": 400, "amp_mean": 0.002,
                  "amp_var": 1e-6, "reversal": 0.0},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )
    directory = tmp_path_factory.mktemp("noisy_circuit")
    spec = CircuitSpec(populations=[PopulationSpec("exc", 6, "exc"),
                                    PopulationSpec("inh", 3, "inh")],
                       edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
                              EdgeSpec("inh", "exc", 2, 1.0)], seed=5)
    circuit = build_circuit(directory, spec)
    sets = directory / "compartment_sets.json"
    sets.write_text(json.dumps({"proximal": {"population": "exc", "compartment_set": [
        [node, section, 0.5] for node in (0, 2, 3, 5) for section in (0, 1)]}}))
    config = write_simulation_config(directory, circuit, tstop=300.0, inputs=INPUTS,
                                     node_set="All", extra={"compartment_sets_file": str(sets)})
    raw = json.loads(config.read_text())
    raw["run"]["stimulus_seed"] = 1234
    config.write_text(json.dumps(raw))
    outputs = []
    for ranks in (1, 2):
        output = directory / f"out_{ranks}"
        assert_ok(run_neurodamus([config, "--output-path", output, "--no-progress"], ranks=ranks))
        outputs.append(read_spikes_by_population(output / "out.h5"))
    return outputs


def test_same_spikes_on_one_and_two_ranks(runs):
    one, two = runs
    assert sorted(one) == sorted(two) == ["exc", "inh"]
    for population in one:
        np.testing.assert_array_equal(one[population][1], two[population][1])
        np.testing.assert_array_equal(one[population][0], two[population][0])  # exact


def test_the_noise_drives_the_cells(runs):
    """Every cell spikes, and no two cells of a population share a spike train (their
    streams differ; identical deterministic drive would synchronise cells of one morphology)."""
    for population, size in (("exc", 6), ("inh", 3)):
        times, ids = runs[0][population]
        trains = [tuple(np.round(times[ids == node], 3)) for node in range(size)]
        assert all(len(train) >= 2 for train in trains), trains
        assert len(set(trains)) == size
