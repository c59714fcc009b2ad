"""Frame reports under CoreNEURON give the files NEURON gives: every report type (compartment,
summation, synapse, compartment_set, and the extracellular potential) on a small spiking
network, on 1 rank and on 2 ranks with a small report buffer (so the CoreNEURON run records
in many short windows, and one report has values on one rank only), against one NEURON run;
and a run saved and restored under CoreNEURON.

Tolerance: both solvers compute the same steps, but CoreNEURON's arithmetic may differ from
NEURON's in the last bits of a double (another data layout, other compiled kernels; ~1e-11
relative in v after 40 ms on a test cell). Written as float32 (2^-24 relative rounding),
such values are bit-identical unless they sit on either side of a rounding boundary: one
unit in the last place apart. A current that crosses zero, or that is the sum of cancelling
terms (i_membrane of a compartment at rest: ~1e-17 nA against ~1 nA in the same column),
differs by the round-off of its terms, which scales with the column, not with the value:
1e-9 of the column's largest value covers it (measured here: 4e-14; every other value of
every report is bit-identical). The ECP is a float64 sum over the cells: 1e-8 of its largest
value (measured: 1e-13).

Not compared: variables that a NET_RECEIVE block sets (NdTm's u, R, t_last, a synapse's
STATE variables) at a frame whose step starts with an event for that synapse: NEURON's
report shows the value after the event, CoreNEURON's before it (see reports/sampler.py).
"""

import json

import h5py
import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

TSTOP, DT, REPORT_DT = 30.0, 0.025, 0.1
COMPARTMENT_SET = [[0, 0, 0.5], [0, 3, 0.2], [0, 3, 0.25], [2, 1, 0.9], [3, 2, 0.0]]


def report(**values):
    return {"start_time": 0.0, "end_time": TSTOP, "dt": REPORT_DT, **values}


REPORTS = {
    "soma_v": report(type="compartment", variable_name="v"),
    "all_v": report(type="compartment", variable_name="v", sections="all", compartments="all"),
    "sodium": report(type="compartment", variable_name="ina", sections="soma", dt=DT,
                     start_time=1.0, end_time=20.0),
    "membrane": report(type="summation", variable_name="i_membrane", sections="soma"),
    "net_current": report(type="summation", variable_name="i_membrane, IClamp", sections="all",
                          start_time=2.5),
    "conductance": report(type="synapse", variable_name="g"),
    "current": report(type="synapse", variable_name="i", dt=0.5),
    "some_places": report(type="compartment_set", variable_name="v", compartment_set="places"),
    # on one rank only: the other has nothing to record, yet runs the same windows
    "one_cell": report(type="compartment", variable_name="v", sections="all",
                       compartments="all", cells="first_cell"),
    "ecp": report(type="summation", variable_name="i_membrane", sections="all",
                  electrode_positions="electrodes.csv"),
}
FRAME_REPORTS = [name for name in REPORTS if name != "ecp"]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """The simulation config, and the output directory of its NEURON run (1 rank)."""
    directory = tmp_path_factory.mktemp("reports_coreneuron")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 4, "exc"), PopulationSpec("inh", 2, "inh")],
        edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0)], seed=3)
    circuit = build_circuit(directory, spec)
    (directory / "compartment_sets.json").write_text(json.dumps(
        {"places": {"population": "exc", "compartment_set": COMPARTMENT_SET}}))
    node_sets = json.loads((directory / "node_sets.json").read_text())
    node_sets["first_cell"] = {"population": "exc", "node_id": [0]}
    (directory / "more_node_sets.json").write_text(json.dumps(node_sets))
    (directory / "electrodes.csv").write_text(
        "channel x_pos y_pos z_pos\n0 0 0 0\n1 50 20 -30\n2 300 -200 100\n")
    electrode = {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                 "represents_physical_electrode": True}
    inputs = {
        "step": {**electrode, "amp_start": 0.3, "delay": 2.0, "duration": 25.0},
        "drive": {"module": "linear", "input_type": "current_clamp", "node_set": "inh",
                  "amp_start": 0.1, "delay": 1.0, "duration": 25.0},
    }
    config = write_simulation_config(directory, circuit, tstop=TSTOP, dt=DT, inputs=inputs,
                                     node_set="All", reports=REPORTS,
                                     extra={"compartment_sets_file": "compartment_sets.json",
                                            "node_sets_file": "more_node_sets.json"})
    reference = directory / "neuron"
    assert_ok(run_neurodamus([config, "--output-path", reference, "--no-progress"], ranks=1))
    return config, reference


@pytest.fixture(scope="module", params=[1, 2], ids=["1rank", "2ranks"])
def coreneuron_run(request, network):
    """The same simulation under CoreNEURON; on 2 ranks with a 20 kB report buffer, so
    every report records in windows of a few steps (the same on both ranks, although one_cell
    has values on one rank only)."""
    config, _ = network
    ranks = request.param
    output = config.parent / f"coreneuron_{ranks}"
    extra = ["--report-buffer-size", "0.02"] if ranks == 2 else []
    assert_ok(run_neurodamus([config, "--output-path", output, "--no-progress",
                              "--simulator", "CORENEURON", *extra], ranks=ranks, timeout=600))
    return output


def read(path, population):
    reader = libsonata.ElementReportReader(str(path))[population]
    frames = reader.get()
    return (np.asarray(frames.data), np.asarray(frames.ids), np.asarray(frames.times),
            reader.times)


def populations(path):
    with h5py.File(path, "r") as f:
        return sorted(f["report"])


def assert_float32_equal(actual, expected, report_name):
    """Equal, or one float32 unit apart, or apart by 1e-9 of the column's scale."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype == np.float32
    scale = np.abs(expected.astype(np.float64)).max(axis=0, keepdims=True)
    ulp = np.spacing(np.maximum(np.abs(actual), np.abs(expected)))
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    allowed = np.maximum(ulp.astype(np.float64), 1e-9 * scale)
    worst = np.unravel_index(np.argmax(difference - allowed), difference.shape)
    assert np.all(difference <= allowed), (
        f"report '{report_name}': frame {worst[0]}, column {worst[1]}: "
        f"{actual[worst]!r} under CoreNEURON, {expected[worst]!r} under NEURON")


@pytest.mark.parametrize("name", FRAME_REPORTS)
def test_frame_report_is_neurons(name, network, coreneuron_run):
    _, reference = network
    expected_path, actual_path = reference / f"{name}.h5", coreneuron_run / f"{name}.h5"
    assert populations(actual_path) == populations(expected_path)
    for population in populations(expected_path):
        data, ids, times, span = read(actual_path, population)
        expected_data, expected_ids, expected_times, expected_span = read(expected_path,
                                                                          population)
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_array_equal(times, expected_times)
        assert span == expected_span
        assert_float32_equal(data, expected_data, name)
        assert np.abs(expected_data).max() > 0


def test_reports_record_activity(network):
    """The comparisons above are of live traces: the network spikes, synapses conduct."""
    _, reference = network
    voltage = read(reference / "all_v.h5", "exc")[0]
    assert voltage.max() > 0 and voltage.min() < -70
    assert read(reference / "conductance.h5", "exc")[0].max() > 0


def test_extracellular_report_is_neurons(network, coreneuron_run):
    _, reference = network
    with h5py.File(reference / "ecp.h5") as expected, h5py.File(coreneuron_run / "ecp.h5") as actual:
        np.testing.assert_array_equal(actual["ecp/time"][()], expected["ecp/time"][()])
        np.testing.assert_array_equal(actual["ecp/channel_id"][()],
                                      expected["ecp/channel_id"][()])
        full = expected["ecp/data"][()]
        np.testing.assert_allclose(actual["ecp/data"][()], full, rtol=0,
                                   atol=1e-8 * np.abs(full).max())
        assert np.abs(full).max() > 0


def test_spikes_are_neurons(network, coreneuron_run):
    _, reference = network
    with h5py.File(reference / "out.h5") as expected, h5py.File(coreneuron_run / "out.h5") as actual:
        for population in expected["spikes"]:
            for field in ("timestamps", "node_ids"):
                np.testing.assert_array_equal(actual[f"spikes/{population}/{field}"][()],
                                              expected[f"spikes/{population}/{field}"][()])


def test_what_coreneuron_cannot_record_is_one_error(network, tmp_path):
    """A section's diameter is NEURON's geometry, not state that CoreNEURON simulates."""
    config, _ = network
    raw = json.loads(config.read_text())
    raw["reports"] = {"widths": report(type="compartment", variable_name="diam")}
    simulation = config.parent / "diameter_config.json"
    simulation.write_text(json.dumps(raw))
    result = run_neurodamus([simulation, "--output-path", tmp_path / "out", "--no-progress",
                             "--simulator", "CORENEURON"], ranks=2, timeout=600)
    assert_one_error(result, "report 'widths'", "CoreNEURON cannot record diam")


def test_saved_and_restored_under_coreneuron_is_neurons(network, tmp_path):
    """Saved at 15 ms under CoreNEURON on 2 ranks, restored under CoreNEURON on 1 rank: the
    restored run's files are the uninterrupted NEURON run's."""
    config, reference = network
    saved = tmp_path / "saved"
    assert_ok(run_neurodamus([config, "--output-path", tmp_path / "first", "--save", saved,
                              "--save-time", TSTOP / 2, "--simulator", "CORENEURON",
                              "--no-progress"], ranks=2, timeout=600))
    assert read(tmp_path / "first" / "soma_v.h5", "exc")[0].shape[0] == round(TSTOP / 2 / REPORT_DT)
    rest = tmp_path / "rest"
    assert_ok(run_neurodamus([config, "--output-path", rest, "--restore", saved,
                              "--simulator", "CORENEURON", "--no-progress"], ranks=1, timeout=600))
    for name in FRAME_REPORTS:
        for population in populations(reference / f"{name}.h5"):
            data, ids, times, _ = read(rest / f"{name}.h5", population)
            expected, expected_ids, expected_times, _ = read(reference / f"{name}.h5", population)
            np.testing.assert_array_equal(ids, expected_ids)
            np.testing.assert_array_equal(times, expected_times)
            assert_float32_equal(data, expected, name)
    with h5py.File(reference / "ecp.h5") as expected, h5py.File(rest / "ecp.h5") as actual:
        full = expected["ecp/data"][()]
        np.testing.assert_allclose(actual["ecp/data"][()], full, rtol=0,
                                   atol=1e-8 * np.abs(full).max())
