"""Waveforms are played only as far as the run goes (sources.WaveformPlayer's horizon, the
run's tstop): a noise input of 30 s on a 40 ms run keeps a few dozen samples per cell instead
of 60,000, and the current played up to tstop is the same, value for value."""

import numpy as np
from test_stimuli_waveforms import DT, Cell, make_stimulus, run

from neurodamus.stimuli import StimulusContext

TSTOP = 40.0


def _played(h, tstop_of_context):
    cell = Cell(h, gid=3)
    stimulus = make_stimulus("noise", mean=0.2, variance=0.01, delay=5.0, duration=30_000.0)
    context = StimulusContext(stimulus_seed=2, dt=DT, tstop=tstop_of_context)
    objects = stimulus.attach(cell, h, context)
    source = objects[0]
    current = h.Vector().record(source._ref_i)
    run(h, TSTOP)
    sizes = [int(o.size()) for o in objects if hasattr(o, "size")]
    return np.array(current), max(sizes), objects, cell


def test_noise_played_to_the_end_of_the_run_only(h):
    whole, whole_size, *keep_whole = _played(h, tstop_of_context=1e6)
    clipped, clipped_size, *keep_clipped = _played(h, tstop_of_context=TSTOP)
    assert whole_size > 60_000 and clipped_size < 100
    assert np.array_equal(whole, clipped) and np.any(whole != 0)
