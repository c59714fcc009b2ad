"""The noise modules' signals, sample for sample those of the reference simulator.

Each function takes a NeuronRandom (random/neuron_random.py) and makes the same distribution
calls, in the same order, as the reference; the samples are the values at the times of
`waveforms.indgen(start, start + duration, dt)` (the window's end included when duration
is a multiple of dt), joined linearly when played (waveforms.SampledTimes).

The linear recursions run as plain Python loops: the same operations in the same order,
so the signal is the reference's to the last bit (a vectorised form would differ by
round-off).
"""

import math

import numpy as np

from .. import libm
from ..random.neuron_random import NeuronRandom
from .waveforms import indgen_count

HOC_EPSILON = 1e-11  # NEURON's float_epsilon: Vector.where("<", x) keeps values < x - it


def gaussian(rng: NeuronRandom, count: int, mean: float, variance: float) -> np.ndarray:
    """`noise`: independent normal samples (a new normal distribution, its first draw
    discarded)."""
    rng.normal(mean, variance)
    return rng.draw(count)


def skip_before_delay(rng: NeuronRandom, delay: float, duration: float, dt: float,
                      run_dt: float):
    """Draws the reference makes, and discards, before a `noise` input that starts after
    t = 0: as many normal(0, 1) values as samples on the grids that chunks of `duration`
    minus one step would have from t = 0 up to one step before `delay` (a legacy of
    splitting a long noise into inputs, kept for reproducibility)."""
    if delay <= 0 or duration <= 0:
        return
    total, start, chunk, last = 0, 0.0, duration - run_dt, delay - run_dt
    while start < last:
        end = min(start + chunk, last)
        total += max(indgen_count(start, end, dt), 0)
        start = end + run_dt
    rng.draw(total)


def gamma(rng: NeuronRandom, shape: float, scale: float, count: int) -> np.ndarray:
    """Gamma variates (Marsaglia and Tsang, 2001), drawn as the reference draws them:
    per attempt a new normal(0, 1) and its first value x, then, when 1 + c x > 0, a new
    uniform(0, 1); shapes below 1 through the boost u^(1/shape) of a shape + 1 variate."""
    if shape < 1:
        rng.uniform(0.0, 1.0)
        boost = libm.power(rng.draw(count), 1.0 / shape)  # Vector.pow's C pow
        return gamma(rng, 1.0 + shape, scale, count) * boost
    d = shape - 1.0 / 3.0
    c = 1.0 / 3.0 / math.sqrt(d)
    values = np.empty(count)
    for i in range(count):
        while True:
            x = rng.normal(0.0, 1.0)
            v = 1.0 + c * x
            if v <= 0:
                continue
            v = v * v * v
            u = rng.uniform(0.0, 1.0)
            if (u < 1.0 - 0.0331 * x * x * x * x
                    or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v))):
                values[i] = scale * d * v
                break
    return values


def event_steps(rng: NeuronRandom, count: int, dt: float, duration: float,
                rate_hz: float) -> np.ndarray:
    """Poisson event times in [0, duration), each rounded to the nearest sample (half to
    even), those past the last sample dropped: the reference draws a fixed number of
    exponential intervals (in s), its estimate of what the duration needs. Where those
    fall short of the duration (the reference stops with an error) more are drawn."""
    estimate = 1 + int(duration * (rate_hz / 1000))
    estimate = int(estimate + 3 * math.sqrt(estimate))
    rng.negexp(1 / rate_hz)
    seconds = np.cumsum(rng.draw(estimate))
    while seconds[-1] * 1000 < duration:
        seconds = np.append(seconds, seconds[-1] + np.cumsum(rng.draw(estimate)))
    times = seconds * 1000
    times = times[times < duration - HOC_EPSILON]
    steps = np.rint(times / dt)
    return steps[steps < count - HOC_EPSILON].astype(np.int64)


def shot_noise(rng: NeuronRandom, count: int, dt: float, duration: float, rate_hz: float,
               amp_mean: float, amp_var: float, rise_time: float, decay_time: float
               ) -> np.ndarray:
    """Shot noise: each event adds an impulse of gamma distributed size (mean |amp_mean|,
    variance amp_var, the sign of amp_mean) at its sample, filtered by the bi-exponential
    kernel discretised on the grid (peak 1): the impulse at sample m adds
    A h((n - m - 1) dt) at sample n. amp_var 0 (which the reference refuses) gives equal
    impulses without drawing."""
    steps = event_steps(rng, count, dt, duration, rate_hz)
    sign = 1.0
    if amp_mean < 0:
        amp_mean, sign = -amp_mean, -1.0
    if amp_var == 0:
        amplitudes = np.full(steps.size, amp_mean)
    else:
        gamma_scale = amp_var / amp_mean
        amplitudes = gamma(rng, amp_mean / gamma_scale, gamma_scale, steps.size)
    impulses = np.zeros(count)
    np.add.at(impulses, steps, sign * amplitudes)  # in event order, as the reference adds
    a, b = math.exp(-dt / decay_time), math.exp(-dt / rise_time)
    decay_rate, rise_rate = -math.log(a), -math.log(b)
    peak_step = math.log(rise_rate / decay_rate) / (rise_rate - decay_rate)
    norm = (a / b - 1) / (math.pow(a, peak_step) - math.pow(b, peak_step))
    return np.array(_biexponential_recursion(impulses.tolist(), a, b)) * norm


def _biexponential_recursion(impulses: list, a: float, b: float) -> list:
    """p[n] = a p[n-1] + b q[n-1], q[n] = b q[n-1] + impulses[n-1], p[0] = q[0] = 0."""
    p, q = [0.0] * len(impulses), [0.0] * len(impulses)
    for n in range(1, len(impulses)):
        p[n] = a * p[n - 1] + b * q[n - 1]
        q[n] = b * q[n - 1] + impulses[n - 1]
    return p


def ornstein_uhlenbeck(rng: NeuronRandom, count: int, dt: float, tau: float, mean: float,
                       sigma: float) -> np.ndarray:
    """The Ornstein-Uhlenbeck process by its exact update (Gillespie 1996), starting at the
    mean: x[0] = mean, x[n] = mean + (x[n-1] - mean) a + sigma sqrt(1 - a^2) xi[n],
    a = exp(-dt / tau); tau below 1e-9 ms gives white noise mean + sigma xi[n]."""
    rng.normal(0.0, 1.0)
    normals = rng.draw(count)
    if tau < 1e-9:
        return normals * sigma + mean
    decay = math.exp(-dt / tau)
    innovations = (normals * (sigma * math.sqrt(1 - decay * decay))).tolist()
    signal = [0.0] * count
    for n in range(1, count):
        signal[n] = signal[n - 1] * decay + innovations[n]
    return np.array(signal) + mean
