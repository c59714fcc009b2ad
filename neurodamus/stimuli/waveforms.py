"""Signals as NEURON plays them: values at time points, joined linearly.

`Vector.play(var, times, 1)` (continuous play) interpolates linearly between points and
holds the first value before the first point and the last one after the last point; two
points at the same time make a jump. Every waveform here starts and ends at 0, so the
signal is 0 outside its window. In a fixed-step run NEURON evaluates the played value at
the middle of each step (t + dt/2) for the currents of that step.

Continuous play is also the only kind CoreNEURON takes over from NEURON.
"""

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

    @property
    def count(self) -> int:
        return self.times.size

    def held_times(self) -> np.ndarray:
        """Time points of `held` waveforms on this grid (the same for every cell)."""
        edges = np.append(self.times, self.end)
        return np.repeat(edges, 2)

    def held(self, samples, times=None) -> Waveform:
        """Each sample held constant from its time to the next one (the last one to `end`).
        Pass `times` (from held_times) to share one array between many waveforms."""
        samples = np.asarray(samples, float)
        values = np.concatenate([[0.0], np.repeat(samples, 2), [0.0]])
        return Waveform(self.held_times() if times is None else times, values)

    def joined(self, function) -> Waveform:
        """`function(t)` sampled on the grid and at `end`, joined linearly."""
        times = np.append(self.times, self.end)
        values = np.asarray(function(times), float)
        return Waveform(np.concatenate([[self.start], times, [self.end]]),
                        np.concatenate([[0.0], values, [0.0]]))
