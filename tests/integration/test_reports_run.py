"""Every report type through the CLI on a small generated network, on 1 rank and on 2 ranks
(the 2-rank run with a 50 kB buffer, so it flushes many times): identical files, the strict
SONATA layout, Kirchhoff's current balance, and reports that agree with one another."""

import json

import h5py
import libsonata
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

TSTOP, DT, REPORT_DT = 50.0, 0.025, 0.1
FRAMES = 500
STEP, RAMP = (0.2, 5.0, 40.0), (0.1, 0.3, 10.0, 30.0)  # (amp, delay, duration), (from, to, ...)
COMPARTMENT_SET = [[0, 0, 0.5], [0, 3, 0.2], [0, 3, 0.25], [2, 1, 0.9], [3, 2, 0.0]]


def report(**values):
    return {"start_time": 0.0, "end_time": TSTOP, "dt": REPORT_DT, **values}


REPORTS = {
    "soma_v": report(type="compartment", variable_name="v"),
    "all_v": report(type="compartment", variable_name="v", sections="all"),
    "membrane": report(type="summation", variable_name="i_membrane", sections="soma"),
    "electrodes": report(type="summation", variable_name="IClamp", sections="soma"),
    "net_current": report(type="summation", variable_name="i_membrane, IClamp", sections="all"),
    "conductance": report(type="synapse", variable_name="g"),
    "some_places": report(type="compartment_set", variable_name="v", compartment_set="places"),
}
UNITS = {"soma_v": "mV", "all_v": "mV", "some_places": "mV", "conductance": "uS",
         "membrane": "nA", "electrodes": "nA", "net_current": "nA"}  # defaults, none configured


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The network once on 1 rank and once on 2 ranks; returns the two output directories."""
    directory = tmp_path_factory.mktemp("reports_network")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 4, "exc"), PopulationSpec("inh", 2, "inh")],
        edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0)], seed=3)
    circuit = build_circuit(directory, spec)
    (directory / "compartment_sets.json").write_text(json.dumps(
        {"places": {"population": "exc", "compartment_set": COMPARTMENT_SET}}))
    electrode = {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                 "represents_physical_electrode": True}
    inputs = {
        "step": {**electrode, "amp_start": STEP[0], "delay": STEP[1], "duration": STEP[2]},
        "ramp": {**electrode, "amp_start": RAMP[0], "amp_end": RAMP[1], "delay": RAMP[2],
                 "duration": RAMP[3]},
        # a membrane current (not an electrode): it is part of i_membrane
        "drive": {"module": "linear", "input_type": "current_clamp", "node_set": "inh",
                  "amp_start": 0.1, "delay": 2.0, "duration": 40.0},
    }
    config = write_simulation_config(directory, circuit, tstop=TSTOP, dt=DT, inputs=inputs,
                                     node_set="All", reports=REPORTS,
                                     extra={"compartment_sets_file": "compartment_sets.json"})
    one, two = directory / "one_rank", directory / "two_ranks"
    assert_ok(run_neurodamus([config, "--output-path", one, "--no-progress"], ranks=1))
    assert_ok(run_neurodamus([config, "--output-path", two, "--no-progress",
                              "--report-buffer-size", "0.05"], ranks=2))
    return one, two


def read(directory, name, population="exc"):
    """(data, node ids, [(node, element)], times) read with libsonata."""
    found = libsonata.ElementReportReader(str(directory / f"{name}.h5"))[population]
    frames = found.get()
    ids = [(int(n), int(e)) for n, e in frames.ids]
    return (np.asarray(frames.data), found.get_node_ids(), ids, np.asarray(frames.times))


def contents(path) -> dict:
    out = {}

    def visit(name, item):
        value = item[()] if isinstance(item, h5py.Dataset) else None
        out[name] = (value, {k: np.asarray(v).tolist() for k, v in item.attrs.items()})
    with h5py.File(path) as f:
        f.visititems(visit)
    return out


def test_same_reports_on_one_and_two_ranks(runs):
    one, two = runs
    for name in REPORTS:
        first, second = contents(one / f"{name}.h5"), contents(two / f"{name}.h5")
        assert first.keys() == second.keys(), name
        for key, (value, attributes) in first.items():
            other, other_attributes = second[key]
            assert attributes == other_attributes, (name, key)
            if value is not None:
                assert value.dtype == other.dtype, (name, key)
                np.testing.assert_array_equal(value, other, err_msg=f"{name} {key}")


def test_strict_layout_and_nothing_else_left(runs):
    for directory in runs:
        names = sorted(p.name for p in directory.iterdir())
        assert not [n for n in names if n.startswith(".")], names  # no part or partial files
        for name in REPORTS:
            with h5py.File(directory / f"{name}.h5") as f:
                populations = ["exc"] if name == "some_places" else ["exc", "inh"]
                assert sorted(f["report"]) == populations
                for population in populations:
                    group = f[f"report/{population}"]
                    data, mapping = group["data"], group["mapping"]
                    node_ids = mapping["node_ids"][()]
                    pointers = mapping["index_pointers"][()]
                    assert data.dtype == np.float32 and data.shape[0] == FRAMES
                    assert data.attrs["units"] == UNITS[name]
                    assert node_ids.dtype == np.uint64 and np.all(np.diff(node_ids.astype(int)) > 0)
                    assert pointers.dtype == np.uint64 and pointers.size == node_ids.size + 1
                    assert pointers[0] == 0 and pointers[-1] == data.shape[1]
                    assert mapping["element_ids"].dtype == np.uint32
                    assert mapping["element_ids"].shape == (data.shape[1],)
                    np.testing.assert_array_equal(mapping["time"], [0.0, TSTOP, REPORT_DT])
                    assert mapping["time"].attrs["units"] == "ms"


def test_membrane_current_of_a_cell_is_its_electrode_current(runs):
    """Kirchhoff: axial currents cancel over a whole cell, so the sum of i_membrane equals the
    current the electrodes inject, which the IClamp summation reports with a minus sign
    (it adds currents as outward positive). Relative 1e-6: both sides are float32 values
    (relative rounding 6e-8) of float64 sums whose cancellation error is ~1e-15 nA."""
    membrane, nodes, _, times = read(runs[0], "membrane")
    electrodes, _, _, _ = read(runs[0], "electrodes")
    assert nodes == [0, 1, 2, 3]
    on = np.abs(electrodes) > 0
    assert on.sum() > 0.7 * on.size  # the electrodes inject for 40 of the 50 ms
    np.testing.assert_allclose(membrane[on], -electrodes[on], rtol=1e-6, atol=0)
    assert np.abs(membrane[~on]).max() < 1e-6 * np.abs(electrodes).max()
    # The electrode current is the sum of both clamps; an IClamp's current at t is its
    # amplitude at t - dt/2 (NEURON evaluates currents at mid-step), the ramp played linearly.
    middle = times - DT / 2
    ramp = np.where((middle > RAMP[2]) & (middle < RAMP[2] + RAMP[3]),
                    RAMP[0] + (RAMP[1] - RAMP[0]) * (middle - RAMP[2]) / RAMP[3], 0.0)
    step = np.where((middle > STEP[1]) & (middle < STEP[1] + STEP[2]), STEP[0], 0.0)
    away_from_switches = np.all([np.abs(middle - edge) > DT for edge in
                                 (STEP[1], STEP[1] + STEP[2], RAMP[2], RAMP[2] + RAMP[3])], axis=0)
    expected = -(step + ramp)[away_from_switches]
    for node in range(4):  # float32 rounding of ~0.5 nA: 3e-8
        np.testing.assert_allclose(electrodes[away_from_switches, node], expected, atol=1e-7)
    # inh cells: no electrode, and a membrane source's current is part of i_membrane
    inh_membrane, _, _, _ = read(runs[0], "membrane", "inh")
    assert np.abs(inh_membrane).max() < 1e-9


def test_net_current_per_compartment_adds_up_to_zero(runs):
    """i_membrane minus the electrode current, per compartment: the whole cell sums to 0 up
    to float32 rounding of each compartment's value (|values| < 1 nA, ~200 compartments)."""
    net, _, ids, _ = read(runs[0], "net_current")
    per_node: dict[int, list[int]] = {}
    for column, (node, _) in enumerate(ids):
        per_node.setdefault(node, []).append(column)
    for columns in per_node.values():
        assert np.abs(net[:, columns]).max() > 0.01  # not all zero: real currents cancel
        assert np.abs(net[:, columns].astype(float).sum(axis=1)).max() < 1e-5


def test_soma_and_compartment_set_reports_read_the_same_compartments(runs):
    """Element ids (section ids) mean the same compartments in every report: the soma report
    is section 0 of the all-compartment report, the compartment set's elements are the
    compartments that hold its locations (the k-th column of a section is its k-th
    compartment), with identical values."""
    everything, nodes, ids, _ = read(runs[1], "all_v")
    columns: dict[tuple, list[int]] = {}  # (node, section id) -> its columns, x from 0 to 1
    for i, key in enumerate(ids):
        columns.setdefault(key, []).append(i)
    soma, soma_nodes, soma_ids, _ = read(runs[1], "soma_v")
    assert soma_ids == [(node, 0) for node in nodes] == [(n, 0) for n in soma_nodes]
    assert all(len(columns[(n, 0)]) == 1 for n in nodes)
    np.testing.assert_array_equal(soma, everything[:, [columns[(n, 0)][0] for n in nodes]])

    places, place_nodes, place_ids, _ = read(runs[1], "some_places")
    assert place_nodes == [0, 2, 3]
    assert place_ids == [(node, section) for node, section, _ in COMPARTMENT_SET]
    expected = []
    for node, section, offset in COMPARTMENT_SET:
        compartments = columns[(node, section)]
        expected.append(compartments[min(int(offset * len(compartments)), len(compartments) - 1)])
    assert expected[1] == expected[2]  # 0.2 and 0.25 of one section: the same compartment
    np.testing.assert_array_equal(places, everything[:, expected])
    assert np.ptp(places) > 10  # voltages that move (the cells spike)


def test_synapse_report_has_one_element_per_afferent_synapse(runs):
    network = runs[0].parent
    edges = {name: libsonata.EdgeStorage(str(network / f"edges_{name}.h5")).open_population(name)
             for name in ("exc__exc__chemical", "inh__exc__chemical")}
    conductance, nodes, ids, _ = read(runs[0], "conductance")
    for node in nodes:
        afferent = sum(p.afferent_edges([node]).flat_size for p in edges.values())
        assert [e for n, e in ids if n == node] == list(range(afferent))
    assert conductance.min() >= 0 and conductance.max() > 1e-4  # uS: synapses were activated
