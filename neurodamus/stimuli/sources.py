"""Where a stimulus's waveform enters NEURON: an electrode or a membrane source, at a segment.

`represents_physical_electrode` picks the mechanism. An electrode (IClamp, SEClamp) injects
an electrode current, which NEURON leaves out of i_membrane and so out of extracellular
signals; a membrane source (our NdStimCurrentSource, NdStimConductanceSource) carries the
same current as a membrane current, the way to stand in for missing synaptic input.
"""

import numpy as np

from .waveforms import Waveform

ALWAYS_ON = 1e9  # ms: IClamp / SEClamp duration covering any run; the waveform does the timing
MAX_RESISTANCE = 1e9  # MOhm: the series resistance that stands for a conductance of (almost) 0


def site_segments(cell, sites):
    """NEURON segments of (section id, offset) sites; the soma centre when `sites` is None."""
    if sites is None:
        return [cell.soma(0.5)]
    return [cell.section(section_id)(offset) for section_id, offset in sites]


HOLD_UNTIL = 1e9  # ms after a waveform's last point: beyond any run


def pinned(times, values) -> tuple[np.ndarray, np.ndarray]:
    """The waveform's points plus one far after the last (HOLD_UNTIL), with the last value:
    past its last point NEURON plays the mean of the last two values when they share a time
    (a final jump to 0); the extra point makes it hold the final value (interpolating
    between two equal values gives that value exactly).

    Far, not just after: a window run by CoreNEURON hands each played Vector back to NEURON,
    which queues its event for the next point, or, past the last point, for the last point
    again, a time already passed. That stale event stays in NEURON's queue, and BBSaveState
    aborts a save on any event earlier than t (mk_presyn_info): every checkpoint under
    CoreNEURON after a waveform's end aborted the job. A last point beyond any run keeps
    that event in the future."""
    return np.append(times, times[-1] + HOLD_UNTIL), np.append(values, values[-1])


class WaveformPlayer:
    """Plays waveforms into NEURON variables, sharing one time Vector between waveforms that
    share their time array (all cells of one noise input do).

    With a `horizon` (the run's tstop), only the points the run can reach are played: those
    before horizon + 2 steps and the first after them (so the value is interpolated between
    the same two points as with the whole waveform up to the end of the run). A noise input
    of published configs lasts 30 s for runs of a few hundred ms: its samples beyond the run
    took half a megabyte per cell."""

    def __init__(self, h, horizon: float | None = None, dt: float = 0.0):
        self.h = h
        self.horizon = None if horizon is None else horizon + 2 * dt
        self._time_vectors: dict = {}  # id(times) -> (times, hoc Vector); the array is kept

    def _reached(self, times: np.ndarray) -> int:
        """How many of the points the run can use (all without a horizon)."""
        if self.horizon is None:
            return times.size
        return min(int(np.searchsorted(times, self.horizon, side="right")) + 1, times.size)

    def play(self, waveform: Waveform, reference) -> list:
        count = self._reached(waveform.times)
        times, values = pinned(waveform.times[:count], waveform.values[:count])
        key = id(waveform.times)
        if key not in self._time_vectors:
            self._time_vectors[key] = (waveform.times, self.h.Vector(times))
        hoc_times, hoc_values = self._time_vectors[key][1], self.h.Vector(values)
        hoc_values.play(reference, hoc_times, 1)
        return [hoc_times, hoc_values]


def place_current(player: WaveformPlayer, segment, waveform: Waveform,
                  physical_electrode: bool) -> list:
    """A current (nA, positive depolarises) following `waveform` at `segment`."""
    h = player.h
    if physical_electrode:
        source = h.IClamp(segment)
        source.delay, source.dur = 0.0, ALWAYS_ON
    else:
        source = h.NdStimCurrentSource(segment)
    return [source, *player.play(waveform, source._ref_amp)]


def series_resistance(conductance: np.ndarray) -> np.ndarray:
    """MOhm for uS, as the reference simulator converts: 1/g for g in (1e-9, 1e9) uS,
    else 1e9 MOhm (a conductance of ~0: negative conductances are clipped)."""
    g = np.asarray(conductance, float)
    inside = (g > 1.0 / MAX_RESISTANCE) & (g < MAX_RESISTANCE)
    return np.where(inside, 1.0 / np.where(inside, g, 1.0), MAX_RESISTANCE)


def place_conductance(player: WaveformPlayer, segment, waveform: Waveform, reversal: float,
                      physical_electrode: bool) -> list:
    """A conductance (uS) towards `reversal` (mV) at `segment`, on until the waveform's
    last point.

    As in the reference simulator the waveform's points become series resistances 1/g,
    joined linearly, in an SEClamp held at `reversal` (electrode) or in our membrane
    source NdStimConductanceSource; either injects g (reversal - v).
    """
    h = player.h
    resistance = waveform.map(series_resistance)
    end = float(waveform.times[-1])
    if physical_electrode:
        source = h.SEClamp(segment)
        source.dur1, source.amp1, source.rs = end, reversal, MAX_RESISTANCE
    else:
        source = h.NdStimConductanceSource(segment)
        source.e, source.dur, source.rs = reversal, end, MAX_RESISTANCE
    return [source, *player.play(resistance, source._ref_rs)]
