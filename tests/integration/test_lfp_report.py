"""`lfp` reports through the driver: on 2 ranks under NEURON and on 1 rank under CoreNEURON,
each electrode's value is the same run's compartment report of i_membrane times the
electrodes file's weights, summed over the compartments here (an independent sum)."""

import json

import h5py
import libsonata
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec

TSTOP = 20.0
ELECTRODES = 3
REPORT = {"start_time": 0.0, "end_time": TSTOP, "dt": 0.1}


def _frames(path, population):
    found = libsonata.ElementReportReader(str(path))[population]
    frames = found.get()
    return found.get_node_ids(), [tuple(map(int, i)) for i in frames.ids], np.asarray(frames.data)


@pytest.fixture(scope="module")
def lfp_config(tmp_path_factory, request):
    """The small circuit with a compartment i_membrane report, its compartment counts read
    from a first run, an electrodes file for node 0..n of `exc` (random weights), then an lfp
    report on it."""
    small_circuit = request.getfixturevalue("small_circuit_module")
    config = small_circuit(tstop=TSTOP)
    raw = json.loads(config.read_text())
    raw["reports"] = {"im": dict(REPORT, type="compartment", variable_name="i_membrane",
                                 sections="all", compartments="all", cells="exc")}
    config.write_text(json.dumps(raw))
    first = config.parent / "counts"
    assert_ok(run_neurodamus([config, "--output-path", first, "--no-progress"], ranks=1))
    nodes, ids, _ = _frames(first / "im.h5", "exc")
    counts = [sum(1 for node, _ in ids if node == n) for n in nodes]
    rng = np.random.default_rng(11)
    with h5py.File(config.parent / "electrodes.h5", "w") as f:
        f["exc/node_ids"] = np.asarray(nodes, np.int64)
        f["exc/offsets"] = np.concatenate([[0], np.cumsum(counts)])
        f["electrodes/exc/scaling_factors"] = rng.uniform(-1, 1, (sum(counts), ELECTRODES))
    raw["reports"]["lfp"] = dict(REPORT, type="lfp", cells="exc",
                                 electrodes_file=str(config.parent / "electrodes.h5"))
    config.write_text(json.dumps(raw))
    return config


@pytest.fixture(scope="module")
def small_circuit_module(tmp_path_factory):
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )

    def make(tstop):
        directory = tmp_path_factory.mktemp("lfp")
        spec = CircuitSpec(populations=[PopulationSpec("exc", 3, "exc"),
                                        PopulationSpec("inh", 1, "inh")],
                           edges=[EdgeSpec("exc", "inh", 2, 1.0), EdgeSpec("inh", "exc", 1, 1.0)],
                           seed=8)
        circuit = build_circuit(directory, spec)
        inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                           "amp_start": 0.4, "delay": 2.0, "duration": tstop}}
        return write_simulation_config(directory, circuit, tstop=tstop, inputs=inputs,
                                       node_set="All")
    return make


@pytest.mark.parametrize("ranks, solver", [(2, "NEURON"), (1, "CORENEURON")])
def test_lfp_is_the_weighted_sum_of_i_membrane(lfp_config, tmp_path, ranks, solver):
    assert_ok(run_neurodamus([lfp_config, "--output-path", tmp_path, "--no-progress",
                              "--simulator", solver], ranks=ranks))
    with h5py.File(lfp_config.parent / "electrodes.h5") as f:
        node_ids, offsets = f["exc/node_ids"][:], f["exc/offsets"][:]
        weights = f["electrodes/exc/scaling_factors"][:]
    nodes, ids, currents = _frames(tmp_path / "im.h5", "exc")
    lfp_nodes, lfp_ids, lfp = _frames(tmp_path / "lfp.h5", "exc")
    assert lfp_nodes == nodes == list(node_ids)
    assert lfp_ids == [(n, e) for n in nodes for e in range(ELECTRODES)]
    expected = np.hstack([currents[:, offsets[k]:offsets[k + 1]] @ weights[offsets[k]:offsets[k + 1]]
                          for k in range(len(nodes))])
    assert np.abs(expected).max() > 1e-2  # the cells spiked
    np.testing.assert_allclose(lfp, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
