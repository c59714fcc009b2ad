"""Signals as NEURON plays them: values at time points, joined linearly.

`Vector.play(var, times, 1)` (continuous play) interpolates linearly between points and
holds the first value before the first point and the last one after the last point; two
points at the same time make a jump. Every waveform here starts and ends at 0, so the
signal is 0 outside its window. In a fixed-step run NEURON evaluates the played value at
the middle of each step (t + dt/2) for the currents of that step.

Continuous play is also the only kind CoreNEURON takes over from NEURON.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Waveform:
    times: np.ndarray  # ms, non-decreasing; a repeated time is a jump
    values: np.ndarray

    def __post_init__(self):
        if self.times.shape != self.values.shape or np.any(np.diff(self.times) < 0):
            raise ValueError("waveform times must be non-decreasing, one per value")

    def map(self, function) -> "Waveform":
        """The same time points, each value transformed (exact for piecewise-constant signals)."""
        return Waveform(self.times, function(self.values))

    def left_limits(self, times) -> np.ndarray:
        """Values just before each of `times` (the value before a jump)."""
        index = np.searchsorted(self.times, times, side="left")
        return self._at(times, index)

    def right_limits(self, times) -> np.ndarray:
        """Values just after each of `times` (the value after a jump)."""
        index = np.searchsorted(self.times, times, side="right") - 1
        return self._at(times, index)

    def _at(self, times, index):
        times = np.asarray(times, float)
        inside = (index >= 0) & (index < self.times.size)
        exact = np.zeros(times.shape, bool)
        exact[inside] = self.times[index[inside]] == times[inside]
        result = np.interp(times, self.times, self.values)
        result[exact] = self.values[index[exact]]
        return result

    def __add__(self, other: "Waveform") -> "Waveform":
        """The sum of two waveforms, jumps included."""
        times = np.union1d(self.times, other.times)
        before = self.left_limits(times) + other.left_limits(times)
        after = self.right_limits(times) + other.right_limits(times)
        jumps = before != after
        out_times = np.repeat(times, 1 + jumps)
        out_values = np.empty(out_times.size)
        first = np.cumsum(1 + jumps) - (1 + jumps)  # index of each time's first point
        out_values[first] = before
        out_values[first + jumps] = after
        return Waveform(out_times, out_values)


def ramp(start: float, duration: float, first: float, last: float) -> Waveform:
    """0, then `first` at `start` changing linearly to `last` at start + duration, then 0."""
    end = start + duration
    return Waveform(np.array([start, start, end, end], float),
                    np.array([0.0, first, last, 0.0]))


def pulse_train(start: float, duration: float, amplitude: float, width: float,
                period: float) -> Waveform:
    """Pulses of `amplitude` and `width` every `period` from `start`; the window cuts the last."""
    end = start + duration
    count = int(np.ceil(duration / period)) if duration > 0 else 0
    onsets = start + period * np.arange(count)
    onsets = onsets[onsets < end]
    offsets = np.minimum(onsets + width, end)
    times = np.stack([onsets, onsets, offsets, offsets], axis=1).ravel()
    values = np.tile([0.0, amplitude, amplitude, 0.0], onsets.size)
    return Waveform(times, values)


INDGEN_EPSILON = 1e-9  # NEURON's Vector.indgen counts floor((stop - start) / step + 1e-9) + 1


def indgen_count(start: float, stop: float, step: float) -> int:
    """How many points NEURON's `Vector.indgen(start, stop, step)` makes."""
    return int(math.floor((stop - start) / step + INDGEN_EPSILON)) + 1


def indgen(start: float, stop: float, step: float) -> np.ndarray:
    """NEURON's `Vector.indgen(start, stop, step)`: i * step + start, stop included when
    it is (to 1e-9 of a step) on the grid. The reference simulator's sample times."""
    return np.arange(max(indgen_count(start, stop, step), 0)) * step + start


@dataclass(frozen=True)
class SampledTimes:
    """The time points of a signal sampled at `times` within the window [start, end):
    0 before start, the samples joined linearly, a jump back to 0 at end -- the points the
    reference simulator plays (a sample that round-off puts past `end` is moved to it).
    One instance serves all the cells of an input."""

    start: float
    end: float
    times: np.ndarray

    @classmethod
    def on_grid(cls, start: float, duration: float, dt: float) -> "SampledTimes":
        end = start + duration
        return cls(start, end, indgen(start, end, dt))

    @property
    def count(self) -> int:
        return self.times.size

    @functools.cached_property
    def points(self) -> np.ndarray:
        return np.concatenate([[self.start], np.minimum(self.times, self.end), [self.end]])

    def waveform(self, samples) -> Waveform:
        values = np.concatenate([[0.0], np.asarray(samples, float), [0.0]])
        return Waveform(self.points, values)


@dataclass(frozen=True)
class SampleGrid:
    """Sample times start + k * dt that fall before `end` (the window's end)."""

    start: float
    end: float
    dt: float

    @property
    def times(self) -> np.ndarray:
        count = max(int(np.ceil((self.end - self.start) / self.dt - 1e-9)), 0)
        return self.start + self.dt * np.arange(count)
