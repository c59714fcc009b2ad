"""bmtk's syn_activity input and its SEClamp on a generated circuit in the bmtk layout,
each checked against an independent run of the same model."""

import json

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.reports import read_spikes_by_population, write_spikes
from neurodamus.testing.bmtk_layout import rewrite_in_bmtk_layout
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # runs neurodamus under mpiexec

SPEC = CircuitSpec(
    populations=[PopulationSpec("exc", 6, "exc", threshold_current=0.25),
                 PopulationSpec("inh", 3, "inh", threshold_current=0.1)],
    edges=[EdgeSpec("exc", "inh", per_target=4, conductance=2.0)], seed=7)
TSTOP = 100.0
DETERMINISTIC = {"mechanisms": {"NdTmExc": {"deterministic": 1},
                                "NdTmInh": {"deterministic": 1}}}
V_INH = {"v_inh": {"module": "membrane_report", "variable_name": "v", "sections": "soma",
                   "cells": "inh"}}


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    base = tmp_path_factory.mktemp("bmtk_stimuli")
    circuit = build_circuit(base / "strict", SPEC)
    strict = write_simulation_config(base / "strict", circuit, tstop=TSTOP, random_seed=0)
    layout = rewrite_in_bmtk_layout(circuit, strict, base / "bmtk", virtual=set()).parent
    (layout / "base.json").write_text((layout / "simulation_config.json").read_text())
    return layout


def _run(layout, tmp_path, name, ranks=1, **changes):
    raw = json.loads((layout / "base.json").read_text())
    raw["output"] = {**raw["output"], "spikes_file_csv": "spikes.csv"}
    raw.update(network="circuit_config.json", reports=V_INH,
               conditions={**raw.get("conditions", {}), **DETERMINISTIC}, **changes)
    config = layout / f"{name}.json"
    config.write_text(json.dumps(raw))
    out = tmp_path / name
    result = run_neurodamus([config, "--output-path", out, "--no-progress"], ranks=ranks)
    assert_ok(result)
    v = libsonata.ElementReportReader(str(out / "v_inh.h5"))["inh"].get().data
    return np.asarray(v), read_spikes_by_population(out / "out.h5"), result


def test_syn_activity_drives_only_the_matching_sources_synapses(layout, tmp_path):
    """syn_activity (sources 0, 2, 4 at 20 and 60 ms; on 2 ranks) while every exc cell fires from a
    strong clamp = the same synapses driven by a spike input of those sources at those
    times with the exc cells silent: the clamped cells' own spikes reach nothing."""
    clamp = {"module": "IClamp", "input_type": "current_clamp", "node_set": "exc",
             "amp": 0.6, "delay": 5.0, "duration": 90.0}
    spont = {"module": "syn_activity", "input_type": "syn_activity", "node_set": "inh",
             "precell_filter": {"node_id": [0, 2, 4]}, "timestamps": [60.0, 20.0]}
    v_spont, spikes, result = _run(layout, tmp_path, "spont", ranks=2,
                                   inputs={"clamp": clamp, "spont": spont})
    assert "fire at 2 times" in result.stdout + result.stderr
    assert spikes["exc"][0].size > 12  # the clamped cells fire, many times
    rows = (tmp_path / "spont" / "spikes.csv").read_text().splitlines()
    assert rows[0] == "timestamps population node_ids"  # bmtk's CSV spikes, in time order
    table = [row.split() for row in rows[1:]]
    times = np.array([float(t) for t, _, _ in table])
    assert np.all(np.diff(times) >= 0) and len(table) == sum(t.size for t, _ in spikes.values())
    for population, (h5_times, h5_ids) in spikes.items():
        mine = [(float(t), int(n)) for t, p, n in table if p == population]
        assert sorted(mine) == sorted(zip(h5_times.tolist(), h5_ids.tolist()))
    times, nodes = np.array([20.0, 60.0] * 3), np.repeat([0, 2, 4], 2)
    write_spikes(layout / "schedule.h5", {"exc": (times, nodes)})
    replay = {"module": "h5", "input_type": "spikes", "input_file": "schedule.h5",
              "node_set": "exc"}
    v_replay, _, _ = _run(layout, tmp_path, "replay", inputs={"replay": replay})
    v_rest, _, _ = _run(layout, tmp_path, "rest", inputs={})
    np.testing.assert_allclose(v_spont, v_replay, rtol=0, atol=1e-9)
    assert np.max(np.abs(v_spont - v_rest)) > 0.5  # the schedule does reach the inh cells
    step = 0.025
    first = int(np.argmax(np.any(np.abs(v_spont - v_rest) > 1e-9, axis=1)))
    assert first * step > 20.0  # nothing before the first timestamp (+ the delays >= 1 ms)


def test_seclamp_holds_each_cell_at_its_levels(layout, tmp_path):
    """bmtk's SEClamp, one set of three levels per listed gid (bmtk gids 6, 8 = inh 0, 2)
    with a small series resistance: the soma follows each command level (within 0.5 mV
    after 5 ms), and is released after the last one; inh 1, unclamped, rests."""
    clamp = {"module": "SEClamp", "input_type": "voltage_clamp", "node_set": "inh",
             "gids": [6, 8], "amps": [[-70.0, -40.0, -90.0], -55.0],
             "durations": [[20.0, 30.0, 20.0], 25.0], "rs": 0.001}
    v, _, result = _run(layout, tmp_path, "seclamp", inputs={"clamp": clamp})
    assert "one clamp on each of 2 cells" in result.stdout + result.stderr
    step = 0.025
    t = np.arange(v.shape[0]) * step

    def level(cell, start, end):
        window = (t >= start + 5.0) & (t < end)
        return v[window, cell]

    for cell, levels in ((0, [(0, 20, -70.0), (20, 50, -40.0), (50, 70, -90.0)]),
                         (2, [(0, 25, -55.0), (25, 50, -55.0), (50, 75, -55.0)])):
        for start, end, command in levels:
            np.testing.assert_allclose(level(cell, start, end), command, atol=0.5)
    assert abs(v[t > 95.0, 0].mean() - -90.0) > 2.0  # released at 70 ms
    assert np.ptp(v[t > 5.0, 1]) < 1.0 and abs(v[t > 5.0, 1].mean() - -70.0) > 0.5


@pytest.mark.parametrize("change, key", [
    ({"amps": [-70.0, -60.0]}, "inputs.clamp.amps"),  # two levels, not one or three
    ({"durations": None}, "inputs.clamp.durations"),
    ({"gids": [6], "amps": [-70.0, -60.0, -50.0, -40.0]}, "inputs.clamp.amps"),
    ({"precell_filter": None, "module": "syn_activity"}, "inputs.clamp.precell_filter"),
    ({"timestamps": [-5.0], "precell_filter": {"node_id": 1}, "module": "syn_activity"},
     "inputs.clamp.timestamps"),
])
def test_malformed_clamps_and_schedules_are_one_error(layout, tmp_path, change, key):
    entry = {"module": "SEClamp", "input_type": "voltage_clamp", "node_set": "inh",
             "amps": -70.0, "durations": 10.0, "timestamps": [10.0]}
    entry = {k: v for k, v in {**entry, **change}.items() if v is not None}
    raw = json.loads((layout / "base.json").read_text())
    raw.update(network="circuit_config.json", inputs={"clamp": entry})
    config = layout / "malformed.json"
    config.write_text(json.dumps(raw))
    assert_one_error(run_neurodamus([config, "--output-path", tmp_path / "out"]), key)


@pytest.mark.parametrize("ranks", [1, 2])
def test_xstim_potentials_are_bmtks_point_sources(tmp_path, ranks):
    """bmtk's xstim on four Allen-style cells (soma centres at their node positions): two
    electrodes, one a point, one a two-point mesh turned 90 degrees about z; a DC step of
    amplitude A from 10 to 30 ms. The soma's e_extracellular is, by hand,
    A rho / (4 pi) 0.01 1e6 * (1 / r_point + (1 / r_a + 1 / r_b) / 2) mV (mesh points
    sharing the amplitude) while the step is on (del < t < del + dur), 0 otherwise."""
    from neurodamus.testing.allen_style import build_allen_style_circuit

    circuit = build_allen_style_circuit(tmp_path / "circuit")
    (tmp_path / "mesh.csv").write_text("x_pos y_pos z_pos\n-5.0 0.0 0.0\n5.0 0.0 0.0\n")
    point, meshed = np.array([150.0, 151.0, 260.0]), np.array([0.0, -200.0, 40.0])
    (tmp_path / "electrodes.csv").write_text(
        "electrode_mesh_file pos_x pos_y pos_z rotation_x rotation_y rotation_z\n"
        f"one_point.csv {' '.join(map(str, point))} 0.0 0.0 0.0\n"
        f"mesh.csv {' '.join(map(str, meshed))} 0.0 0.0 {np.pi / 2}\n")
    (tmp_path / "one_point.csv").write_text("x_pos y_pos z_pos\n0.0 0.0 0.0\n")
    amplitude, rho, dt = 0.004, 250.0, 0.025
    xstim = {"module": "xstim", "input_type": "lfp", "node_set": "All",
             "positions_file": "electrodes.csv", "resistance": rho,
             "waveform": {"shape": "dc", "del": 10.0, "dur": 20.0, "amp": amplitude}}
    reports = {"e": {"module": "membrane_report", "variable_name": "e_extracellular",
                     "cells": "All", "sections": "soma", "file_name": "e.h5"}}
    raw = {"network": str(circuit.circuit_config),
           "run": {"tstop": 40.0, "dt": dt, "dL": 20.0, "spike_threshold": -20},
           "conditions": {"celsius": 6.3}, "output": {"output_dir": "out"},
           "inputs": {"x": xstim}, "reports": reports}
    config = tmp_path / "xstim.json"
    config.write_text(json.dumps(raw))
    assert_ok(run_neurodamus([config, "--output-path", tmp_path / "out", "--no-progress"],
                             ranks=ranks))
    e = np.asarray(libsonata.ElementReportReader(str(tmp_path / "out" / "e.h5"))["allen"]
                   .get().data)
    positions = np.array([[100.0 * k, 100.0 * k + 1, 100.0 * k + 2] for k in range(4)])
    mesh = meshed + np.array([[0.0, -5.0, 0.0], [0.0, 5.0, 0.0]])  # turned: along y
    by_hand = amplitude * rho / (4 * np.pi) * 0.01 * 1e6 * (
        1 / np.linalg.norm(positions - point, axis=1)
        + (1 / np.linalg.norm(positions[:, None] - mesh[None], axis=2)).sum(axis=1) / 2)
    on = np.any(e != 0, axis=1)
    assert on.sum() == round(20.0 / dt) - 1  # the steps strictly inside (10, 30) ms
    np.testing.assert_allclose(e[on], np.broadcast_to(by_hand, e[on].shape), rtol=1e-5)
    # the first step from t_k > 10 ms (k = 401) holds the value, set as the step before
    # ends, after that step's frame (t_401) is taken: the frame at t_402 first shows it
    # (bmtk's voltages are equal to ours with this timing: docs/supported.md)
    assert int(np.argmax(on)) == round(10.0 / dt) + 2
