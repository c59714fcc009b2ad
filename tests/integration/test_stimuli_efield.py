"""spatially_uniform_e_field in NEURON: the extracellular potential played at each segment,
recorded at every step, against E(t) . r with r where the reference places the segment in
the circuit (segment_positions), computed here from the test cell's straight sections (a
soma along x, centred on the origin, and a 200 um dendrite along y from x = 10 um), turned
and moved like a node.

On the reference simulator's time grid: the step ending at t[k] uses the field at its middle,
t[k] - dt / 2, and e_extracellular recorded at t[k] holds that value (`middles`); agreement
to 1e-9 of the largest potential (round-off is ~1e-15 of it).
"""

import math

import numpy as np
import pytest
from test_stimuli_waveforms import DT, Cell, attach, make_stimulus, run

from neurodamus.errors import ConfigError

QUARTER_TURN_Z = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
POSITION = np.array([100.0, -50.0, 30.0])
MV = 1e-3  # um * V/m in mV


def segment_positions(cell):
    """Where the reference places every segment for the field, from the geometry the test
    built: the soma at its centre, a dendrite segment at its start (towards x = 0)."""
    local = [np.zeros(3)]  # the soma's only segment, at its centre
    nseg = cell.sections[1].nseg
    local += [np.array([10.0, 200.0 * i / nseg, 0.0]) for i in range(nseg)]
    return np.array(local) @ cell.rotation.T + cell.position


def record_potentials(h, cell):
    segments = [segment for section in cell.sections for segment in section]
    return ([h.Vector().record(segment._ref_e_extracellular) for segment in segments],
            [h.Vector().record(segment._ref_vext[0]) for segment in segments])


def middles(times):
    """The middle of the step ending at each recorded time (before 0 at t = 0)."""
    return np.asarray(times) - DT / 2


def envelope(t, start, ramp_up, duration, ramp_down):
    """0 -> 1 linearly over ramp_up, 1 for duration, 1 -> 0 over ramp_down."""
    end = start + ramp_up + duration + ramp_down
    rising = np.clip((t - start) / ramp_up, 0, 1) if ramp_up else (t >= start) * 1.0
    falling = np.clip((end - t) / ramp_down, 0, 1) if ramp_down else (t < end) * 1.0
    return np.minimum(rising, falling)


def test_static_field_with_ramps(h):
    cell = Cell(h, position=POSITION, rotation=QUARTER_TURN_Z)
    field = np.array([10.0, 20.0, -5.0])
    stimulus = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation",
                             delay=5.0, duration=10.0, ramp_up_time=2.0, ramp_down_time=3.0,
                             fields=[{"Ex": field[0], "Ey": field[1], "Ez": field[2]}])
    attach(h, stimulus, cell)
    potentials, vext = record_potentials(h, cell)
    times = h.Vector().record(h._ref_t)
    run(h, 25.0)
    times = np.array(times)
    in_time = envelope(middles(times), 5.0, 2.0, 10.0, 3.0)
    expected = (MV * segment_positions(cell) @ field)[:, None] * in_time
    recorded = np.array([np.array(p) for p in potentials])
    peak = np.abs(expected).max()
    np.testing.assert_allclose(recorded, expected, rtol=0, atol=1e-9 * peak)
    assert peak > 1.0  # mV: a field that matters (the dendrite spans ~4 mV)
    # The cell sees it: vext follows e_extracellular, evaluated at each step's middle
    # (xg = 1e9 S/cm2 ties them to ~1e-9 mV).
    middle = (MV * segment_positions(cell) @ field)[:, None] * envelope(
        times[:-1] + DT / 2, 5.0, 2.0, 10.0, 3.0)
    np.testing.assert_allclose(np.array([np.array(v) for v in vext])[:, 1:], middle,
                               rtol=0, atol=1e-6)


def test_constant_field_on_the_reference_time_grid(h):
    """The reference's test_one_constant_field: dt 1 ms, ramp up 3 ms: e at t = 1 ms is a
    sixth of the peak (the field at 0.5 ms), at 2 ms a half, from 4 ms the peak; 0 at t = 0."""
    cell = Cell(h, position=POSITION)
    h.dt = 1.0
    stimulus = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation",
                             delay=0.0, duration=10.0, ramp_up_time=3.0, ramp_down_time=4.0,
                             fields=[{"Ex": 100.0, "Ey": -50.0, "Ez": 50.0}])
    attach(h, stimulus, cell)
    tip = cell.sections[1](0.9)
    recorded = h.Vector().record(tip._ref_e_extracellular)
    run(h, 17.0, dt=1.0)
    peak = MV * segment_positions(cell)[-1] @ np.array([100.0, -50.0, 50.0])
    expected = peak * np.array([0, 1 / 6, 1 / 2, 5 / 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7 / 8,
                                5 / 8, 3 / 8, 1 / 8])
    np.testing.assert_allclose(np.array(recorded), expected, rtol=1e-12, atol=1e-12)
    h.dt = DT


def test_axon_stubs_without_3d_points_placed_as_the_reference_places_them(h):
    """An e-model's axon stubs have no 3-D points: axon[0] spans 0..30 um and axon[1]
    30..60 um down the local y axis from the soma centre, as the reference puts them."""
    cell = Cell(h, position=POSITION, rotation=QUARTER_TURN_Z)
    stubs = [h.Section(name=f"axon[{i}]") for i in range(2)]
    stubs[0].connect(cell.soma(0))
    stubs[1].connect(stubs[0](1))
    stubs[1].nseg = 3
    cell.sections = [*cell.sections, *stubs]
    field = np.array([10.0, 20.0, -5.0])
    stimulus = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation",
                             delay=0.0, duration=10.0, fields=[{"Ex": field[0], "Ey": field[1],
                                                                "Ez": field[2]}])
    attach(h, stimulus, cell)
    recorded = [h.Vector().record(segment._ref_e_extracellular) for s in stubs for segment in s]
    run(h, 1.0)
    down = [15.0] + [30.0 + 30.0 * (i + 0.5) / 3 for i in range(3)]  # um below the soma centre
    places = np.array([[0.0, -d, 0.0] for d in down]) @ QUARTER_TURN_Z.T + POSITION
    np.testing.assert_allclose([v[-1] for v in recorded], MV * places @ field, rtol=1e-12,
                               atol=1e-12)


def test_oscillating_fields_add_up(h):
    cell = Cell(h, position=POSITION)
    fields = [{"Ex": 5.0, "Ey": 0.0, "Ez": 2.0, "frequency": 50.0, "phase": 0.3},
              {"Ex": 0.0, "Ey": -8.0, "Ez": 0.0}]
    stimulus = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation",
                             delay=4.0, duration=40.0, fields=fields)
    attach(h, stimulus, cell)
    potentials, _ = record_potentials(h, cell)
    times = h.Vector().record(h._ref_t)
    run(h, 50.0)
    times = np.array(times)
    angle = 2 * math.pi * 50.0 * (middles(times) - 4.0) / 1000.0 + 0.3
    e_of_t = np.outer(np.cos(angle), [5.0, 0.0, 2.0]) + np.array([0.0, -8.0, 0.0])
    inside = (middles(times) >= 4.0) & (middles(times) < 44.0)
    expected = MV * (e_of_t @ segment_positions(cell).T).T * inside
    recorded = np.array([np.array(p) for p in potentials])
    np.testing.assert_allclose(recorded, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


def test_two_inputs_on_one_cell_add_up(h):
    cell = Cell(h, position=POSITION)
    first = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation", delay=5.0,
                          duration=10.0, fields=[{"Ex": 10.0, "Ey": 0.0, "Ez": 0.0}])
    second = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation", delay=10.0,
                           duration=10.0, ramp_up_time=4.0,
                           fields=[{"Ex": 0.0, "Ey": 5.0, "Ez": 0.0}])
    attach(h, first, cell)
    assert attach(h, second, cell) == []  # added to the cell's existing potentials
    potentials, _ = record_potentials(h, cell)
    times = h.Vector().record(h._ref_t)
    run(h, 30.0)
    times = np.array(times)
    positions = segment_positions(cell)
    mid = middles(times)
    expected = (MV * positions[:, 0:1] * 10.0 * envelope(mid, 5.0, 0.0, 10.0, 0.0)
                + MV * positions[:, 1:2] * 5.0 * envelope(mid, 10.0, 4.0, 10.0, 0.0))
    recorded = np.array([np.array(p) for p in potentials])
    np.testing.assert_allclose(recorded, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


def test_compartment_set_gets_the_field_at_its_segments_only(h):
    cell = Cell(h, position=POSITION)
    stimulus = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation",
                             delay=1.0, duration=5.0, fields=[{"Ex": 0.0, "Ey": 10.0, "Ez": 0.0}])
    attach(h, stimulus, cell, sites=((1, 0.5),))
    assert not cell.soma.has_membrane("extracellular")
    dendrite = cell.sections[1]
    middle, tip = (h.Vector().record(dendrite(x)._ref_e_extracellular) for x in (0.5, 0.9))
    run(h, 10.0)
    expected = MV * 10.0 * (POSITION[1] + 80.0)  # x = 0.5 of 5 segments: the third, at 80 um
    assert np.array(middle)[int(3 / DT)] == pytest.approx(expected, rel=1e-12)
    assert np.all(np.array(tip) == 0)


def test_frequency_must_be_below_nyquist(h):
    cell = Cell(h)
    stimulus = make_stimulus("spatially_uniform_e_field", "extracellular_stimulation",
                             fields=[{"Ex": 1.0, "Ey": 0.0, "Ez": 0.0, "frequency": 25000.0}])
    with pytest.raises(ConfigError, match=r"inputs.drive.fields\[0\].frequency.*Nyquist"):
        attach(h, stimulus, cell)
