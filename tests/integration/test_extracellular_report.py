"""bmtk's extracellular (ECP) report, read by the bmtk dialect, against potentials computed
here, independently, from the membrane currents that a compartment report of the same run
records and from the cells' geometry as the templates below define it.

Cells: passive ball-and-sticks (soma 20 x 20 um along local y, one dendrite of 10 segments of
20 um along local x) and one single-compartment ball, placed and turned by their nodes'
positions and orientation quaternions; current steps through IClamp, which NEURON leaves
out of i_membrane, so the cells carry a net (monopole) current and the far field is large.

Tolerances:
* far electrodes (>= 4 mm from every segment): the report integrates each segment as a line
  source, the check here sums point sources at the segments' midpoints. For one segment of
  length L the two differ by the midpoint rule's error, (L^2 / 24) |f''| with f = 1/r along
  the segment and |f''| <= 2 / r_min^3: at most I L^2 / (12 r_min^3) / (4 pi sigma), about
  1e-6 of the segment's potential here. The currents come from a float32 report, which adds
  2^-24 of each term. The sum of both bounds over the segments is the tolerance.
* near electrodes (one segment, up to 10 um from its end): the line source is checked against
  a 200-point Gauss-Legendre quadrature of the point-source kernel along the segment, exact
  to round-off at these distances (the integrand's poles lie at least 10 um off an interval
  of half-length 10 um), so only the float32 rounding of the current remains.
* 1 rank and 2 ranks (with a 2 kB buffer: many flushes) sum the same terms in another
  order: equal to 1e-12 of the largest value.
"""

import json
import math

import h5py
import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

SIGMA = 0.3  # S/m: with um and nA, 1 / (4 pi sigma r) gives mV
TSTOP, DT = 6.0, 0.025
FLOAT32 = 2.0 ** -24
STICK_SEGMENTS, STICK_LENGTH, SOMA_LENGTH, SOMA_DIAMETER = 10, 200.0, 20.0, 20.0

def cell_template(name: str, dendrite: bool) -> str:
    """A passive cell: the soma (20 x 20 um, along local y, centred at 0), and with `dendrite`
    a dendrite of 10 segments from the soma's end (0, 10, 0) to (200, 10, 0)."""
    arrays, public, build = "soma[1]", "soma", ""
    if dendrite:
        arrays, public = "soma[1], dend[1]", "soma, dend"
        build = """
    dend[0] {
        pt3dclear()  pt3dadd(0, 10, 0, 2)  pt3dadd(200, 10, 0, 2)
        nseg = 10  Ra = 100  cm = 1
        insert pas  g_pas = 1e-3  e_pas = -65
        all.append()  basal.append()
    }
    connect dend[0](0), soma[0](1)"""
    return f"""
begintemplate {name}
public init, gid, {public}, all, somatic, axonal, basal, apical
public connect2target, getThreshold, synlist, threshold_current
create {arrays}
objref all, somatic, axonal, basal, apical, synlist
proc init() {{
    gid = $1
    threshold_current = 0
    all = new SectionList()
    somatic = new SectionList()
    axonal = new SectionList()
    basal = new SectionList()
    apical = new SectionList()
    synlist = new List()
    soma[0] {{
        pt3dclear()  pt3dadd(0, -10, 0, 20)  pt3dadd(0, 10, 0, 20)
        nseg = 1  Ra = 100  cm = 1
        insert pas  g_pas = 1e-3  e_pas = -65
        all.append()  somatic.append()
    }}{build}
}}
obfunc connect2target() {{ localobj nc
    soma[0] nc = new NetCon(&v(0.5), $o1)
    if (numarg() == 2) {{ $o2 = nc }}
    return nc
}}
func getThreshold() {{ return threshold_current }}
endtemplate {name}
"""


STICKS = {  # node id: (position um, orientation quaternion w, x, y, z)
    0: ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0)),
    1: ((300.0, 50.0, -20.0), (math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4))),
    2: ((-150.0, 200.0, 100.0), (math.cos(math.pi / 6), math.sin(math.pi / 6), 0.0, 0.0)),
    3: ((80.0, -250.0, 40.0), (1.0, 0.3, -0.5, 0.2)),
}
BALL = ((2000.0, 0.0, 0.0), (math.cos(math.pi / 4), math.sin(math.pi / 4), 0.0, 0.0))
FAR = [(0.0, 0.0, 6000.0), (-5000.0, 3000.0, 0.0), (4000.0, -4000.0, 2000.0)]
NEAR = [(15.0, 0.0, 3.0), (0.0, 0.0, 25.0), (-12.0, 9.0, -30.0)]  # from the ball's centre
# With minimum_distance auto (the radius, 10 um): inside the ball, near its end (both
# clamped), beside it (farther than 10 um) and on its axis's line farther out (neither).
INSIDE = [(2.0, 0.0, 0.0), (0.0, 3.0, 14.0), (15.0, 0.0, 3.0), (1.0, 0.0, 40.0)]


def rotation(quaternion) -> np.ndarray:
    w, x, y, z = np.asarray(quaternion, float) / np.linalg.norm(quaternion)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def stick_segments(node_id):
    """(p0, p1) [11 x 3] of a stick's compartments in report element order (soma, dendrite)."""
    position, quaternion = STICKS[node_id]
    edges = np.linspace(0.0, STICK_LENGTH, STICK_SEGMENTS + 1)
    p0 = np.array([[0.0, -10.0, 0.0]] + [[x, 10.0, 0.0] for x in edges[:-1]])
    p1 = np.array([[0.0, 10.0, 0.0]] + [[x, 10.0, 0.0] for x in edges[1:]])
    turn = rotation(quaternion)
    return p0 @ turn.T + position, p1 @ turn.T + position


def ball_segment():
    position, quaternion = BALL
    turn = rotation(quaternion)
    return (np.array([0.0, -10.0, 0.0]) @ turn.T + position,
            np.array([0.0, 10.0, 0.0]) @ turn.T + position)


def write_electrodes(path, positions):
    lines = ["channel x_pos y_pos z_pos"]
    lines += [" ".join([str(i), *(repr(float(v)) for v in p)]) for i, p in enumerate(positions)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def ecp_report(cells, electrodes, **extra):
    return {"cells": cells, "variable_name": "v", "module": "extracellular",
            "electrode_positions": electrodes, "electrode_channels": "all", **extra}


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    """A strict circuit of 4 sticks and a ball, and the bmtk-style reports' configs."""
    base = tmp_path_factory.mktemp("extracellular")
    config = build_circuit(base, CircuitSpec(populations=[PopulationSpec("stick", 4, "exc"),
                                                          PopulationSpec("ball", 1, "exc")]))
    (base / "emodels" / "NdEcpStick.hoc").write_text(cell_template("NdEcpStick", dendrite=True))
    (base / "emodels" / "NdEcpBall.hoc").write_text(cell_template("NdEcpBall", dendrite=False))
    with h5py.File(base / "nodes.h5", "r+") as nodes:
        for population, template, placements in (("stick", "NdEcpStick", STICKS),
                                                 ("ball", "NdEcpBall", {0: BALL})):
            group = nodes[f"nodes/{population}/0"]
            del group["model_template"]
            group.create_dataset("model_template", data=[f"hoc:{template}".encode()]
                                 * len(placements), dtype=h5py.string_dtype())
            for axis, column in zip("xyz", range(3)):
                group[axis][...] = [placements[i][0][column] for i in sorted(placements)]
            for name, column in zip(("orientation_w", "orientation_x", "orientation_y",
                                     "orientation_z"), range(4)):
                group[name][...] = [placements[i][1][column] for i in sorted(placements)]
    ball = np.asarray(BALL[0])
    reports = {
        "ecp_far": ecp_report("stick", write_electrodes(base / "far.csv", FAR),
                              contributions_dir="contributions"),
        "ecp_near": ecp_report("ball", write_electrodes(base / "near.csv", ball + NEAR)),
        "ecp_min": ecp_report("ball", write_electrodes(base / "inside.csv", ball + INSIDE),
                              minimum_distance="auto", file_name="inside.h5"),
        "currents": {"cells": "All", "variable_name": "i_membrane", "module": "membrane_report",
                     "sections": "all", "dt": DT},
    }
    inputs = {"steps": {"module": "linear", "input_type": "current_clamp", "node_set": "All",
                        "amp_start": 0.1, "delay": 1.0, "duration": 3.0,
                        "represents_physical_electrode": True}}
    simulation = write_simulation_config(base, config, tstop=TSTOP, dt=DT, inputs=inputs,
                                         reports=reports)
    raw = json.loads(simulation.read_text())
    del raw["reports"]["ecp_far"]["contributions_dir"]  # checkpoints do not keep them
    checkpointed = base / "checkpointed_config.json"
    checkpointed.write_text(json.dumps(raw, indent=2))
    return simulation, checkpointed


@pytest.fixture(scope="module")
def runs(circuit, tmp_path_factory):
    """Output directories of the same simulation on 1 rank and on 2 ranks (tiny buffers)."""
    simulation, _ = circuit
    base = tmp_path_factory.mktemp("extracellular_runs")
    one = run_neurodamus([simulation, "--output-path", base / "one", "--no-progress"], ranks=1)
    assert_ok(one)
    assert "reports.ecp_far.module: bmtk's extracellular report" in one.stdout + one.stderr
    assert_ok(run_neurodamus([simulation, "--output-path", base / "two", "--no-progress",
                              "--report-buffer-size", "0.002"], ranks=2))
    return base / "one", base / "two"


def ecp(path):
    with h5py.File(path, "r") as f:
        return (f["ecp/data"][()], f["ecp/time"][()], f["ecp/channel_id"][()],
                f["ecp/data"].attrs["units"])


def currents(output, population):
    """{node id: [frames x compartments] float64} of the i_membrane compartment report."""
    reader = libsonata.ElementReportReader(str(output / "currents.h5"))[population]
    frames = reader.get()
    data = np.asarray(frames.data, np.float64)
    ids = np.asarray(frames.ids)
    return {int(n): data[:, ids[:, 0] == n] for n in np.unique(ids[:, 0])}


def test_layout_is_bmtk_s(runs):
    data, time, channels, units = ecp(runs[1] / "ecp_far.h5")
    assert data.shape == (round(TSTOP / DT), len(FAR)) and data.dtype == np.float64
    np.testing.assert_array_equal(time, [0.0, TSTOP, DT])
    np.testing.assert_array_equal(channels, np.arange(len(FAR)))
    assert units == "mV"
    assert not [p.name for p in runs[1].iterdir() if p.name.startswith(".")]  # no partials


def test_far_electrodes_see_the_point_source_sum(runs):
    output = runs[1]
    data, _, _, _ = ecp(output / "ecp_far.h5")
    recorded = currents(output, "stick")
    expected, bound = np.zeros_like(data), np.zeros_like(data)
    for node_id, current in recorded.items():
        p0, p1 = stick_segments(node_id)
        middle, length = (p0 + p1) / 2, np.linalg.norm(p1 - p0, axis=1)
        for channel, electrode in enumerate(np.asarray(FAR)):
            distance = np.linalg.norm(electrode - middle, axis=1)
            closest = distance - length / 2
            expected[:, channel] += current @ (1 / distance) / (4 * math.pi * SIGMA)
            bound[:, channel] += np.abs(current) @ (
                length ** 2 / (12 * closest ** 3) + FLOAT32 / distance) / (4 * math.pi * SIGMA)
    assert np.abs(data).max() > 1e-5  # mV (0.4 nA at 5 mm): there is a signal to compare
    assert np.all(np.abs(data - expected) <= bound + 1e-15)
    assert bound.max() < 1e-5 * np.abs(data).max()  # a tight check


def line_source(current, p0, p1, electrode, minimum=0.0):
    """Potential (mV) of `current` (nA, [frames]) spread evenly over the segment p0-p1, by
    quadrature of the point-source kernel; within `minimum` of the segment (past its ends
    included) the distance to its axis is taken as at least `minimum`."""
    axis = p1 - p0
    length = np.linalg.norm(axis)
    direction = axis / length
    offset = electrode - (p0 + p1) / 2
    along = offset @ direction
    across = np.linalg.norm(offset - along * direction)
    if abs(along) - length / 2 < minimum:
        across = max(across, minimum)
    nodes, weights = np.polynomial.legendre.leggauss(200)
    s = nodes * length / 2
    kernel = (weights * length / 2) @ (1 / np.sqrt((along - s) ** 2 + across ** 2)) / length
    return current * kernel / (4 * math.pi * SIGMA)


@pytest.mark.parametrize("report, positions, minimum", [
    ("ecp_near", NEAR, 0.0), ("inside", INSIDE, SOMA_DIAMETER / 2)])
def test_near_electrodes_see_the_line_source(runs, report, positions, minimum):
    output = runs[1]
    data, _, _, _ = ecp(output / f"{report}.h5")
    current = currents(output, "ball")[0][:, 0]
    p0, p1 = ball_segment()
    assert np.abs(current).max() > 0.05  # nA: the step's current leaves the ball
    for channel, offset in enumerate(positions):
        expected = line_source(current, p0, p1, np.asarray(BALL[0]) + offset, minimum)
        np.testing.assert_allclose(data[:, channel], expected, rtol=0,
                                   atol=4 * FLOAT32 * np.abs(expected).max())
    if minimum:  # the clamp matters: without it the electrode inside the ball sees more
        assert np.abs(data[:, 0]).max() < 0.9 * np.abs(
            line_source(current, p0, p1, np.asarray(BALL[0]) + positions[0])).max()


def test_one_rank_equals_two_ranks(runs):
    one, two = runs
    for name in ("ecp_far", "ecp_near", "inside"):
        first, second = ecp(one / f"{name}.h5")[0], ecp(two / f"{name}.h5")[0]
        np.testing.assert_allclose(second, first, rtol=0, atol=1e-12 * np.abs(first).max())


def test_contributions_add_up_to_the_total(runs):
    for output in runs:
        total = ecp(output / "ecp_far.h5")[0]
        parts = [ecp(output / "contributions" / "stick" / f"{i}.h5")[0] for i in STICKS]
        np.testing.assert_allclose(sum(parts), total, rtol=0, atol=1e-12 * np.abs(total).max())
        assert all(np.abs(part).max() > 0 for part in parts)


def test_restored_run_continues_the_report(circuit, runs, tmp_path):
    _, checkpointed = circuit
    saved = tmp_path / "saved"
    assert_ok(run_neurodamus([checkpointed, "--output-path", tmp_path / "first", "--save", saved,
                              "--save-time", TSTOP / 2, "--no-progress"], ranks=2))
    assert ecp(tmp_path / "first" / "ecp_far.h5")[0].shape[0] == round(TSTOP / 2 / DT)
    assert_ok(run_neurodamus([checkpointed, "--output-path", tmp_path / "rest", "--restore",
                              saved, "--no-progress"], ranks=1))
    for name in ("ecp_far", "ecp_near", "inside"):
        (full, _, _, _), (rest, time, _, _) = ecp(runs[0] / f"{name}.h5"), ecp(
            tmp_path / "rest" / f"{name}.h5")
        np.testing.assert_allclose(rest, full, rtol=0, atol=1e-12 * np.abs(full).max())
        np.testing.assert_array_equal(time, [0.0, TSTOP, DT])


@pytest.mark.parametrize("content, expected", [
    (None, "not found"),
    ("channel x y z\n0 1 2 3\n", "the header must name the columns channel x_pos y_pos z_pos"),
    ("channel x_pos y_pos z_pos\n0 1 two 3\n", "line 2: y_pos 'two' is not a number"),
])
def test_bad_electrode_file_is_one_error(tmp_path, content, expected):
    config = build_circuit(tmp_path, CircuitSpec(populations=[PopulationSpec("exc", 2, "exc")]))
    electrodes = tmp_path / "electrodes.csv"
    if content is not None:
        electrodes.write_text(content)
    simulation = write_simulation_config(tmp_path, config, tstop=5.0, reports={
        "ecp": ecp_report("exc", str(electrodes))})
    result = run_neurodamus([simulation, "--no-progress"], ranks=2, timeout=120)
    message = assert_one_error(result, str(simulation), "key 'reports.ecp.electrode_positions'",
                               str(electrodes), expected)
    assert "Running to" not in result.stdout and not (tmp_path / "output" / "ecp.h5").exists()
    assert message.strip().count("\n") == 0, message


def test_a_report_larger_than_the_free_space_is_refused_before_the_run(tmp_path):
    config = build_circuit(tmp_path, CircuitSpec(populations=[PopulationSpec("exc", 2, "exc")]))
    electrodes = write_electrodes(tmp_path / "electrodes.csv", FAR)
    simulation = write_simulation_config(tmp_path, config, tstop=1e12, reports={
        "ecp": ecp_report("exc", electrodes)})
    result = run_neurodamus([simulation, "--no-progress"], ranks=2, timeout=120)
    assert_one_error(result, str(simulation), "key 'reports.ecp'", "channels x 8 bytes",
                     "is free there")
    assert "Running to" not in result.stdout and not (tmp_path / "output" / "ecp.h5").exists()
