"""The deterministic input modules in NEURON: the current (or clamp command) that NEURON
actually injects, recorded at every step, against the module's definition computed here.

In a fixed-step run NEURON computes the currents of the step from t to t + dt at its
middle, so the current recorded at t[k+1] is the signal at t[k] + dt/2; and a value
recorded at t[k] for a played variable is the signal at t[k]. Agreement is asked to 1e-9
relative (round-off is ~1e-15), with 1e-12 nA absolute where the signal is 0.
"""

import numpy as np
import pytest

from neurodamus.config.settings import InputSettings
from neurodamus.stimuli import STIMULUS_MODULES, StimulusContext

DT, V_INIT = 0.025, -65.0
RTOL, ATOL = 1e-9, 1e-12


class Cell:
    """What stimuli use of a cell: gid, node values, SONATA-indexed sections (a passive soma
    along x and a dendrite along y, with 3-D points), its placement, keep_alive."""

    def __init__(self, h, gid=1, sections=None, threshold_current=0.4, holding_current=-0.06,
                 input_resistance=100.0, position=(0.0, 0.0, 0.0), rotation=None):
        self.gid, self.node_id, self.population = gid, gid, "cortex"
        self.threshold_current, self.holding_current = threshold_current, holding_current
        self.input_resistance = input_resistance
        self.position = np.array(position, float)
        self.rotation = np.eye(3) if rotation is None else np.asarray(rotation, float)
        self.keep_alive = []
        self.sections = sections or self._build(h)

    @staticmethod
    def _build(h):
        soma, dendrite = h.Section(name="soma"), h.Section(name="dendrite")
        soma.pt3dadd(-10, 0, 0, 20)
        soma.pt3dadd(10, 0, 0, 20)
        dendrite.pt3dadd(10, 0, 0, 2)
        dendrite.pt3dadd(10, 200, 0, 2)
        dendrite.connect(soma(1))
        dendrite.nseg = 5
        for section in (soma, dendrite):
            section.insert("pas")
            for segment in section:
                segment.pas.g, segment.pas.e = 1e-4, V_INIT
        return [soma, dendrite]

    @property
    def soma(self):
        return self.sections[0]

    def section(self, section_id):
        return self.sections[section_id]


def make_stimulus(module, input_type="current_clamp", delay=5.0, duration=20.0, **parameters):
    settings = InputSettings(name="drive", module=module, input_type=input_type, node_set="All",
                             delay=delay, duration=duration, parameters=parameters)
    return STIMULUS_MODULES[module](settings)


RUNS_END = 1e6  # ms, after every run of these tests: waveforms are played up to tstop


def attach(h, stimulus, cell, sites=None, stimulus_seed=0, block_index=0):
    context = StimulusContext(stimulus_seed=stimulus_seed, dt=h.dt, tstop=RUNS_END,
                              block_index=block_index, sites=sites)
    objects = stimulus.attach(cell, h, context)
    cell.keep_alive.extend(objects)
    return objects


def run(h, tstop, dt=DT):
    h.dt, h.secondorder = dt, 0
    h.finitialize(V_INIT)
    h.continuerun(tstop)


def injected_current(h, source):
    """Recorder of the current a source injects into the cell (nA, positive depolarises):
    an IClamp's electrode current, or minus our membrane source's outward current."""
    sign = 1.0 if source.hname().startswith("IClamp") else -1.0
    return sign, h.Vector().record(source._ref_i)


def run_and_compare(h, stimulus, cell, expected, tstop=30.0):
    """Attach, run, and check the injected current against expected(midpoint times)."""
    source = attach(h, stimulus, cell)[0]
    sign, current = injected_current(h, source)
    times = h.Vector().record(h._ref_t)
    run(h, tstop)
    times, current = np.array(times), sign * np.array(current)
    midpoints = times[:-1] + DT / 2
    want = expected(midpoints)
    np.testing.assert_allclose(current[1:], want, rtol=RTOL, atol=ATOL)
    assert np.count_nonzero(want) > 100  # the window was really driven
    return current


def window(midpoints, delay, duration):
    return (midpoints >= delay) & (midpoints < delay + duration)


@pytest.mark.parametrize("physical_electrode", [False, True])
def test_linear_ramp(h, physical_electrode):
    stimulus = make_stimulus("linear", amp_start=0.1, amp_end=0.35,
                             represents_physical_electrode=physical_electrode)

    def ramp(t):
        return np.where(window(t, 5.0, 20.0), 0.1 + 0.25 * (t - 5.0) / 20.0, 0.0)
    run_and_compare(h, stimulus, Cell(h), ramp)


def test_linear_step_when_no_end_amplitude(h):
    stimulus = make_stimulus("linear", delay=2.5, duration=12.0, amp_start=-0.2)
    run_and_compare(h, stimulus, Cell(h), lambda t: np.where(window(t, 2.5, 12.0), -0.2, 0.0))


def test_relative_linear_scales_by_threshold(h):
    stimulus = make_stimulus("relative_linear", percent_start=50, percent_end=150)

    def ramp(t):  # threshold 0.4 nA: from 0.2 to 0.6 nA
        return np.where(window(t, 5.0, 20.0), 0.4 * (0.5 + (t - 5.0) / 20.0), 0.0)
    run_and_compare(h, stimulus, Cell(h, threshold_current=0.4), ramp)


def test_subthreshold_and_hyperpolarizing(h):
    cell = Cell(h, threshold_current=0.4, holding_current=-0.06)
    run_and_compare(h, make_stimulus("subthreshold", percent_less=30), cell,
                    lambda t: np.where(window(t, 5.0, 20.0), 0.28, 0.0))
    run_and_compare(h, make_stimulus("hyperpolarizing", represents_physical_electrode=True),
                    Cell(h, holding_current=-0.06),
                    lambda t: np.where(window(t, 5.0, 20.0), -0.06, 0.0))


def test_pulse_train_cut_by_the_window(h):
    # 150 Hz: onsets every 6.667 ms, off the time grid; the window ends inside the 5th pulse.
    stimulus = make_stimulus("pulse", delay=5.0, duration=28.0, amp_start=0.5, width=2.0,
                             frequency=150.0)
    period = 1000.0 / 150.0

    def pulses(t):
        inside = window(t, 5.0, 28.0) & (np.mod(t - 5.0, period) < 2.0)
        return np.where(inside, 0.5, 0.0)
    current = run_and_compare(h, stimulus, Cell(h), pulses, tstop=40.0)
    rising = np.flatnonzero(np.diff(current > 0.25))
    assert rising.size == 10  # 5 pulses, the last one cut at 33 ms


def test_sinusoid_sampled_and_joined(h):
    delay, duration, signal_dt = 5.0, 20.0, 0.1
    stimulus = make_stimulus("sinusoidal", amp_start=0.4, frequency=80.0, dt=signal_dt)

    def sinusoid(t):
        samples = np.append(delay + signal_dt * np.arange(200), delay + duration)
        values = 0.4 * np.sin(2 * np.pi * 80.0 * (samples - delay) / 1000.0)
        return np.where(window(t, delay, duration), np.interp(t, samples, values), 0.0)
    run_and_compare(h, stimulus, Cell(h), sinusoid)


def test_seclamp_levels(h):
    cell = Cell(h)
    stimulus = make_stimulus("seclamp", "voltage_clamp", delay=0.0, duration=10.0, voltage=-70.0,
                             duration_levels=[5.0, 8.0], voltage_levels=[-50.0, -60.0],
                             series_resistance=0.02)
    [clamp, *_] = attach(h, stimulus, cell)
    times, command = h.Vector().record(h._ref_t), h.Vector().record(clamp._ref_vc)
    current, voltage = h.Vector().record(clamp._ref_i), h.Vector().record(cell.soma(0.5)._ref_v)
    run(h, 30.0)
    times, command, current, voltage = map(np.array, (times, command, current, voltage))
    midpoints = times[:-1] + DT / 2
    levels = np.select([midpoints < 10, midpoints < 15, midpoints < 23], [-70.0, -50.0, -60.0], 0.0)
    # SEClamp sets its command at the step's middle; after the last level it is off.
    np.testing.assert_allclose(command[1:], levels, rtol=RTOL, atol=ATOL)
    on = np.append(True, midpoints < 23)
    # Its current is (command - v) / rs, with v at the end of the step (after_cvode).
    np.testing.assert_allclose(current[on], (command[on] - voltage[on]) / 0.02,
                               rtol=RTOL, atol=1e-9)
    assert np.all(current[~on] == 0)
    # And the cell follows: 0.02 MOhm against ~100 MOhm of membrane holds v within 0.1 mV.
    for end, level in ((10, -70.0), (15, -50.0), (23, -60.0)):
        assert abs(voltage[int(round(end / DT))] - level) < 0.1


def test_membrane_source_counts_in_i_membrane(h):
    """All current entering a cell leaves through its membrane: the sum of i_membrane over
    the cell is the electrode current, and 0 when the source is itself a membrane current."""
    h.cvode.use_fast_imem(1)
    try:
        sums = {}
        for physical in (False, True):
            cell = Cell(h)
            stimulus = make_stimulus("linear", amp_start=0.3,
                                     represents_physical_electrode=physical)
            attach(h, stimulus, cell, sites=((1, 0.5),))
            records = [h.Vector().record(node._ref_i_membrane_)
                       for section in cell.sections for node in section.allseg()]
            sums[physical] = (cell, records)
        run(h, 30.0)
        for physical, (_, records) in sums.items():
            total = np.sum([np.array(r) for r in records], axis=0)
            # Kirchhoff holds to round-off in NEURON's matrix solution (~1e-15 nA here).
            expected = 0.3 if physical else 0.0
            assert abs(total[int(15 / DT)] - expected) < 1e-10
            assert np.all(np.abs(total[int(6 / DT):int(24 / DT)] - expected) < 1e-10)
    finally:
        h.cvode.use_fast_imem(0)


def test_compartment_set_sites(h):
    cell = Cell(h)
    stimulus = make_stimulus("linear", amp_start=0.1)
    sources = [item for item in attach(h, stimulus, cell, sites=((1, 0.3), (1, 0.9), (0, 0.5)))
               if item.hname().startswith("NdStimCurrentSource")]
    assert [(s.get_segment().sec.name(), round(s.get_segment().x, 2)) for s in sources] == [
        ("dendrite", 0.3), ("dendrite", 0.9), ("soma", 0.5)]
    noise = make_stimulus("noise", mean=0.0, variance=1.0)
    objects = attach(h, noise, cell, sites=((1, 0.3), (1, 0.9)))
    first, second = objects[2], objects[5]  # [source, times, values] per site
    # The reference's noise continues one stream from site to site.
    assert not np.array_equal(np.array(first), np.array(second))


def test_conductance_as_membrane_source_or_electrode(h):
    """The same conductance (same cell gid, same stream) through NdStimConductanceSource and
    through an SEClamp: both play the series resistance 1/g (as the reference simulator
    does), so the two cells follow the same voltage, and the electrode's current over its
    driving force is 1/rs."""
    reversal = -80.0
    applied, cells = {}, []
    for physical in (False, True):
        cell = Cell(h, gid=7)
        cells.append(cell)
        stimulus = make_stimulus("ornstein_uhlenbeck", "conductance", tau=2.0, mean=0.004,
                                 sigma=0.002, reversal=reversal,
                                 represents_physical_electrode=physical)
        source = attach(h, stimulus, cell)[0]
        applied[physical] = (h.Vector().record(source._ref_i),
                             h.Vector().record(cell.soma(0.5)._ref_v),
                             h.Vector().record(source._ref_rs))
    run(h, 30.0)
    membrane_v, electrode_v = np.array(applied[False][1]), np.array(applied[True][1])
    np.testing.assert_allclose(membrane_v, electrode_v, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.array(applied[False][2]), np.array(applied[True][2]))
    i, v, rs = (np.array(x) for x in applied[True])
    electrode = i[1:] / (reversal - v[1:])  # SEClamp: (e - v) / rs after the step
    on = slice(0, int(25 / DT))  # the clamp is off from the window's end
    np.testing.assert_allclose(electrode[on], 1 / rs[1:][on], rtol=1e-9)
    driven = electrode[int(5 / DT):int(25 / DT)]
    assert np.all(driven > 0) and driven.std() > 0.0005  # clipped at 1e-9 uS, really noisy
    # Outside the window 1e9 MOhm: 1e-9 uS, as in the reference; the clamp is off after it.
    assert np.all(electrode[:int(5 / DT) - 1] == pytest.approx(1e-9, rel=1e-9))
    assert np.all(i[int(25 / DT) + 1:] == 0)
