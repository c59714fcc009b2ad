"""Samples of the noise modules' signals on a regular grid (pure NumPy, no NEURON).

Each function returns the values at t_n = start + n dt; the modules hold each sample
until the next one (see waveforms.SampleGrid.held), so the injected current has exactly
the samples' distribution.
"""

import math

import numpy as np

from .biexponential import BiexponentialKernel


def gaussian(rng: np.random.Generator, count: int, mean: float, variance: float) -> np.ndarray:
    """Independent normal samples."""
    return mean + math.sqrt(variance) * rng.standard_normal(count)


def exponential_filter(inputs: np.ndarray, decay: float) -> np.ndarray:
    """y[n] = decay * y[n-1] + inputs[n], with y[-1] = 0 (a first-order linear recursion).

    Vectorised in blocks: within a block y is a cumulative sum of inputs scaled by
    decay**-k, kept below e**30 so that it stays finite and accurate.
    """
    out = np.empty(len(inputs))
    if decay <= 0.0:
        out[:] = inputs
        return out
    block = 1 + int(30.0 / -math.log(decay)) if decay < 1.0 else 1
    carry = 0.0
    for first in range(0, len(inputs), block):
        chunk = np.asarray(inputs[first:first + block], float)
        powers = decay ** np.arange(chunk.size)
        values = np.cumsum(chunk / powers) * powers + carry * decay * powers
        out[first:first + chunk.size] = values
        carry = values[-1]
    return out


def shot_noise(rng: np.random.Generator, count: int, dt: float, rate_hz: float,
               amp_mean: float, amp_var: float, kernel: BiexponentialKernel) -> np.ndarray:
    """Poisson shot noise sampled exactly at the grid times, starting with no past events.

    Events arrive at rate `rate_hz` (exponential intervals) from the grid's start; each
    adds a bi-exponential pulse of peak A, with |A| gamma distributed (mean |amp_mean|,
    variance amp_var; the sign of amp_mean). x(t_n) = sum over events t_k <= t_n of
    A_k h(t_n - t_k), computed as two exponential filters of the events binned by the
    first grid time at or after them.
    """
    duration = count * dt
    rate = rate_hz / 1000.0  # per ms
    times = _poisson_times(rng, rate, duration)
    amplitudes = _gamma_amplitudes(rng, times.size, amp_mean, amp_var)
    bins = np.ceil(times / dt - 1e-12).astype(np.int64)
    later = bins >= count  # after the last sample: nothing to add
    bins, times, amplitudes = bins[~later], times[~later], amplitudes[~later]
    lag = bins * dt - times  # from each event to its bin's grid time, >= 0
    signal = np.zeros(count)
    for tau, sign in ((kernel.decay_time, 1.0), (kernel.rise_time, -1.0)):
        inputs = np.bincount(bins, weights=amplitudes * np.exp(-lag / tau), minlength=count)
        signal += sign * exponential_filter(inputs, math.exp(-dt / tau))
    return signal / kernel.peak


def _poisson_times(rng, rate: float, duration: float) -> np.ndarray:
    """Event times in [0, duration) of a Poisson process of `rate` per ms."""
    if rate <= 0 or duration <= 0:
        return np.zeros(0)
    expected = rate * duration
    chunks, last = [], 0.0
    while last < duration:
        draw = int(expected + 5 * math.sqrt(expected) + 10)
        times = last + np.cumsum(rng.exponential(1.0 / rate, draw))
        chunks.append(times)
        last = times[-1]
    times = np.concatenate(chunks)
    return times[times < duration]


def _gamma_amplitudes(rng, count: int, mean: float, variance: float) -> np.ndarray:
    """Gamma distributed magnitudes of mean |mean| and `variance`, with the sign of mean."""
    if variance == 0:
        return np.full(count, mean)
    shape = mean * mean / variance
    scale = variance / abs(mean)
    return math.copysign(1.0, mean) * rng.gamma(shape, scale, count)


def ornstein_uhlenbeck(rng: np.random.Generator, count: int, dt: float, tau: float,
                       mean: float, sigma: float) -> np.ndarray:
    """The Ornstein-Uhlenbeck process (mean, standard deviation sigma, correlation time
    tau) sampled exactly (Gillespie 1996): x[n+1] = mean + (x[n] - mean) a + sigma
    sqrt(1 - a^2) xi[n], a = exp(-dt / tau), starting from its stationary distribution.
    tau = 0 gives white noise."""
    normals = rng.standard_normal(count)
    decay = math.exp(-dt / tau) if tau > 0 else 0.0
    innovations = sigma * math.sqrt(1.0 - decay * decay) * normals
    innovations[:1] = sigma * normals[:1]
    return mean + exponential_filter(innovations, decay)
