"""Load balancing, CoreNEURON and the dry run through the driver on real ranks."""

import json

import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    """Stochastic synapses, minis and gap junctions: what CoreNEURON must reproduce."""
    directory = tmp_path_factory.mktemp("scale")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 12, "exc", mini_frequencies=(1.0, 1.0)),
                     PopulationSpec("inh", 4, "inh")],
        edges=[EdgeSpec("exc", "exc", 5, 1.5), EdgeSpec("exc", "inh", 6, 1.0),
               EdgeSpec("inh", "exc", 4, 1.0)],
        gap_junctions=[GapJunctionSpec("inh", pairs=3, conductance=1.0)], seed=4)
    config = build_circuit(directory, spec)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.3, "amp_end": 0.4, "delay": 10.0, "duration": 140.0,
                       "represents_physical_electrode": True}}
    simulation = write_simulation_config(directory, config, tstop=150.0, inputs=inputs,
                                         node_set="All")
    assert_ok(run_neurodamus([simulation, "--output-path", directory / "reference",
                              "--no-progress"], ranks=1))
    return simulation


def spikes_equal(a, b):
    a, b = read_spikes_by_population(a / "out.h5"), read_spikes_by_population(b / "out.h5")
    assert sum(t.size for t, _ in a.values()) > 10
    for population in a:
        np.testing.assert_array_equal(a[population][1], b[population][1])
        np.testing.assert_array_equal(a[population][0], b[population][0])


def test_whole_cell_same_spikes_balanced_and_reused(circuit, tmp_path):
    cache = tmp_path / "cache" / "mechanisms"
    args = ["--lb-mode", "WholeCell", "--mechanisms-cache", cache, "--no-progress"]
    first = run_neurodamus([circuit, "--output-path", tmp_path / "a", *args], ranks=2)
    assert_ok(first)
    assert "Saved the WholeCell assignment" in first.stdout
    summary = json.loads((tmp_path / "a" / "run_summary.json").read_text())
    assert summary["lb_mode"] == "WholeCell" and summary["imbalance"] <= 1.05
    spikes_equal(circuit.parent / "reference", tmp_path / "a")
    again = run_neurodamus([circuit, "--output-path", tmp_path / "b", *args], ranks=2)
    assert_ok(again)
    assert "Saved the WholeCell assignment" not in again.stdout  # reused
    assert json.loads((tmp_path / "a" / "distribution.json").read_text()) == \
        json.loads((tmp_path / "b" / "distribution.json").read_text())


def test_assignment_for_another_rank_count(circuit, tmp_path):
    result = run_neurodamus([circuit, "--num-target-ranks", "3", "--mechanisms-cache",
                             tmp_path / "cache" / "mechanisms"], ranks=1)
    assert_ok(result)
    assert "WholeCell assignment for 3 ranks" in result.stdout
    saved = list((tmp_path / "cache" / "loadbal").glob("wholecell-3ranks-*.npz"))
    assert len(saved) == 1
    data = np.load(saved[0])
    assert sorted(set(data["ranks"].tolist())) == [0, 1, 2] and data["gids"].size == 16


def test_coreneuron_gives_neuron_spikes(circuit, tmp_path):
    for ranks in (1, 2):
        output = tmp_path / f"core{ranks}"
        assert_ok(run_neurodamus([circuit, "--output-path", output, "--simulator", "CORENEURON",
                                  "--no-progress"], ranks=ranks, timeout=600))
        spikes_equal(circuit.parent / "reference", output)


def test_coreneuron_refuses_what_it_cannot_run(circuit, tmp_path):
    """Checkpoints run under CoreNEURON now (tests/integration/test_coreneuron_features.py);
    what truly cannot, NEURON's extracellular mechanism (here through an e-field input), is
    one error naming the input and the feature, before anything is built or simulated."""
    raw = json.loads(circuit.read_text())
    raw["inputs"]["field"] = {"module": "spatially_uniform_e_field",
                              "input_type": "extracellular_stimulation", "node_set": "inh",
                              "delay": 10.0, "duration": 50.0,
                              "fields": [{"Ex": 10.0, "Ey": 0.0, "Ez": 0.0}]}
    config = circuit.parent / "field.json"  # beside the original: its relative paths hold
    config.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--output-path", tmp_path / "out", "--simulator",
                             "CORENEURON", "--save", tmp_path / "ck", "--no-progress"], ranks=2)
    assert_one_error(result, "inputs.field.module", "spatially_uniform_e_field input 'field'",
                     "extracellular mechanism", "--simulator NEURON")
    assert "Running to" not in result.stdout and not (tmp_path / "out" / "out.h5").exists()


def test_dry_run_estimates_memory_per_rank(circuit, tmp_path):
    result = run_neurodamus([circuit, "--output-path", tmp_path / "dry", "--dry-run",
                             "--num-target-ranks", "4"], ranks=1)
    assert_ok(result)
    estimate = json.loads((tmp_path / "dry" / "dry_run.json").read_text())
    assert estimate["ranks"] == 4 and len(estimate["per_rank"]) == 4
    assert sum(r["cells"] for r in estimate["per_rank"]) == 16
    assert estimate["per_synapse_kb"] > 0 and estimate["max_rank_mb"] > estimate["baseline_mb"]
    assert not (tmp_path / "dry" / "out.h5").exists()  # nothing was simulated


def test_coreneuron_replays_spikes_like_neuron(tmp_path):
    """Replay under CoreNEURON: the events NEURON queued are delivered by CoreNEURON (a node set
    covering only part of a source's targets: test_coreneuron_features)."""
    from neurodamus.testing.circuit_builder import write_poisson_spikes

    spec = CircuitSpec(populations=[PopulationSpec("exc", 8, "exc"), PopulationSpec("inh", 3, "inh"),
                                    PopulationSpec("thalamus", 6, "virtual")],
                       edges=[EdgeSpec("exc", "exc", 4, 1.0), EdgeSpec("exc", "inh", 4, 1.0),
                              EdgeSpec("thalamus", "exc", 5, 3.0)], seed=8)
    circuit = build_circuit(tmp_path, spec)
    write_poisson_spikes(tmp_path / "thalamus.h5", "thalamus", range(6), rate=60.0, tstop=150.0)
    inputs = {"replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
                         "spike_file": "thalamus.h5", "delay": 10.0, "duration": 120.0},
              "step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.2, "delay": 5.0, "duration": 140.0}}
    config = write_simulation_config(tmp_path, circuit, tstop=150.0, inputs=inputs, node_set="All")
    assert_ok(run_neurodamus([config, "--output-path", tmp_path / "nrn", "--no-progress"], ranks=2))
    assert_ok(run_neurodamus([config, "--output-path", tmp_path / "core", "--simulator",
                              "CORENEURON", "--no-progress"], ranks=2, timeout=600))
    spikes_equal(tmp_path / "nrn", tmp_path / "core")
