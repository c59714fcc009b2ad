"""The noise modules in NEURON: statistics of the current (or conductance) NEURON actually
injects, against what each module's definition says.

One run holds every source: 10 s of signal from many cells (independent streams, one per
gid) on one passive compartment held at -65 mV by a voltage clamp, so that the
conductances see a steady driving force. The signals are sampled every 0.25 or 0.5 ms and
joined linearly (as the reference simulator plays them); the run's step is 0.25 ms and the
delay is 10.125 ms, so that the middle of each step, where NEURON evaluates the current
of the step (recorded at t[k+1]), falls on a sample time: the currents are the samples
(every other one for the 0.5 ms noise, the midpoints between them in between). Bounds are
5 standard errors of each estimate, the standard error coming from the process's own
autocovariance (formulas at each test); a correct implementation fails one with
probability ~1e-6, and the seeds are fixed, so a run is reproducible.
"""

import math

import numpy as np
import pytest
from test_stimuli_waveforms import Cell, attach, make_stimulus

DT, DELAY, DURATION, HOLD = 0.25, 10.125, 10000.0, -65.0
THRESHOLD, RESISTANCE = 0.4, 100.0  # nA, MOhm: the cells' node values
RISE, DECAY = 0.5, 5.0


class NODE:
    """The node values every cell here has."""

    threshold_current, input_resistance, node_id, population = THRESHOLD, RESISTANCE, 0, "cortex"


Z = 5.0  # standard errors allowed

MODULES = {  # name -> (module, input type, parameters, number of cells)
    "noise": ("noise", "current_clamp", {"mean_percent": 50, "variance": 10, "dt": 0.5}, 8),
    "shot": ("shot_noise", "current_clamp", {"rise_time": RISE, "decay_time": DECAY, "rate": 800,
                                            "amp_mean": 0.02, "amp_var": 0.0002}, 16),
    "absolute": ("absolute_shot_noise", "current_clamp",
                 {"rise_time": RISE, "decay_time": DECAY, "mean": 0.1, "sigma": 0.03}, 16),
    "relative": ("relative_shot_noise", "conductance",
                 {"rise_time": RISE, "decay_time": DECAY, "mean_percent": 100, "sd_percent": 30,
                  "relative_skew": 0.2}, 16),
    "ou": ("ornstein_uhlenbeck", "current_clamp", {"tau": 5.0, "mean": 0.1, "sigma": 0.03}, 8),
    "relative_ou": ("relative_ornstein_uhlenbeck", "conductance",
                    {"tau": 3.0, "mean_percent": 100, "sd_percent": 15}, 8),
}


@pytest.fixture(scope="module")
def recorded(h):
    """{name: (stimulus, [cell count, samples] injected current or conductance)}."""
    bus = Cell(h).sections[:1]
    clamp = h.SEClamp(bus[0](0.5))
    clamp.dur1, clamp.amp1, clamp.rs = 1e9, HOLD, 1e-3
    records, keep = {}, [clamp]
    for index, (name, (module, input_type, parameters, count)) in enumerate(MODULES.items()):
        stimulus = make_stimulus(module, input_type, delay=DELAY, duration=DURATION, **parameters)
        sources = []
        for gid in range(1, count + 1):
            cell = Cell(h, gid=gid, sections=bus, threshold_current=THRESHOLD,
                        input_resistance=RESISTANCE)
            source = attach(h, stimulus, cell, stimulus_seed=11, block_index=index)[0]
            sources.append(h.Vector().record(source._ref_i))
            keep.append(cell)
        records[name] = (stimulus, sources)
    times, voltage = h.Vector().record(h._ref_t), h.Vector().record(bus[0](0.5)._ref_v)
    h.dt, h.secondorder = DT, 0
    h.finitialize(HOLD)
    h.continuerun(DELAY + DURATION + 1.0)
    midpoints = np.array(times)[:-1] + DT / 2
    inside = (midpoints >= DELAY) & (midpoints < DELAY + DURATION)
    voltage = np.array(voltage)
    out = {}
    for name, (stimulus, sources) in records.items():
        current = np.array([np.array(source)[1:] for source in sources])
        if stimulus.settings.input_type == "conductance":  # i = g (v - e), v from the step's start
            signal = current / (voltage[:-1] - stimulus.parameter("reversal"))
            # 1e9 MOhm (1e-9 uS) before the window, as in the reference; off after it.
            before = midpoints < DELAY
            assert np.all(signal[:, before] == pytest.approx(1e-9, rel=1e-9))
            assert np.all(signal[:, ~inside & ~before] == 0)
        else:
            signal = -current  # NdStimCurrentSource: outward membrane current = -injected
            assert np.all(signal[:, ~inside] == 0)
        # At exactly t = delay NEURON plays the value before the jump there (as for the
        # reference, which plays the same points): the samples start at the next step.
        out[name] = (stimulus, signal[:, inside][:, 1:])
    return out


def kernel(step=DT, length=30 * DECAY):
    """The peak-normalised bi-exponential pulse on the samples' grid: the reference's shot
    noise is its impulse response sampled there (an event at sample m adds A h(k dt) at
    sample m + 1 + k), so Campbell's integrals become these sums times dt."""
    t = np.arange(0, length, step)
    shape = np.exp(-t / DECAY) - np.exp(-t / RISE)
    return shape / shape.max(), step


def check(name, measured, expected, standard_error):
    print(f"{name}: measured {measured:.6g}, expected {expected:.6g}, "
          f"{(measured - expected) / standard_error:+.2f} standard errors")
    assert abs(measured - expected) < Z * standard_error


def test_white_noise(recorded):
    stimulus, signal = recorded["noise"]
    # mean 50 % and variance 10 % of the 0.4 nA threshold: 0.2 nA, 0.04 nA^2.
    mean, variance = 0.2, 0.04
    # A 0.5 ms sample spans two 0.25 ms steps; from the second sample on:
    pairs = signal[:, 1:].reshape(signal.shape[0], -1, 2)  # (sample, then halfway)
    # On the samples, then halfway between two: the samples are joined linearly.
    np.testing.assert_allclose(pairs[:, :-1, 1], (pairs[:, :-1, 0] + pairs[:, 1:, 0]) / 2,
                               rtol=0, atol=1e-14)
    samples = pairs[..., 0].ravel()
    n = samples.size  # independent normal samples: textbook standard errors
    check("noise mean", samples.mean(), mean, math.sqrt(variance / n))
    check("noise variance", samples.var(ddof=1), variance, variance * math.sqrt(2 / (n - 1)))
    within = np.mean(np.abs(samples - mean) < math.sqrt(variance))  # normal: 68.27 %
    check("noise fraction within 1 sd", within, 0.682689, math.sqrt(0.682689 * 0.317311 / n))


def shot_noise_expectations(rate_hz, amp_mean, amp_var):
    """Campbell's mean and variance, and the standard errors of the sample mean and
    variance over a time T per ms: Var(mean) = (1/T) int C, Var(variance) = (1/T) int
    (2 C^2 + k4), for a process much longer than its correlation time, with the
    autocovariance C(tau) = r E[A^2] int h(s) h(s + tau) ds and the fourth cumulant
    k4(tau) = r E[A^4] int h(s)^2 h(s + tau)^2 ds (Campbell's theorem for each)."""
    h, step = kernel()
    rate = rate_hz / 1000
    shape = amp_mean ** 2 / amp_var
    scale = amp_var / amp_mean
    second = amp_var + amp_mean ** 2
    fourth = shape * (shape + 1) * (shape + 2) * (shape + 3) * scale ** 4
    i1, i2 = h.sum() * step, (h * h).sum() * step
    autocovariance = rate * second * np.correlate(h, h, "full") * step
    mean, variance = rate * amp_mean * i1, rate * second * i2
    per_ms_mean = rate * second * i1 ** 2
    per_ms_variance = 2 * (autocovariance ** 2).sum() * step + rate * fourth * i2 ** 2
    return mean, variance, per_ms_mean, per_ms_variance


def check_shot_noise(label, signal, mean, variance, per_ms_mean, per_ms_variance):
    settled = signal[:, int(10 * DECAY / DT):]  # from 0 at delay: skip 10 decay times
    span = settled.size * DT  # ms of signal, all cells together
    check(f"{label} mean", settled.mean(), mean, math.sqrt(per_ms_mean / span))
    check(f"{label} variance", settled.var(), variance, math.sqrt(per_ms_variance / span))


def test_shot_noise_follows_campbell(recorded):
    _, signal = recorded["shot"]
    check_shot_noise("shot_noise", signal, *shot_noise_expectations(800, 0.02, 0.0002))


@pytest.mark.parametrize("name, mean, sigma", [
    ("absolute", 0.1, 0.03),
    # 100 % and 30 % of the inverse input resistance, 1 / 100 MOhm = 0.01 uS.
    ("relative", 0.01, 0.003),
])
def test_shot_noise_from_mean_and_sigma(recorded, name, mean, sigma):
    """The derived rate and amplitudes give `mean` and `sigma` by Campbell's integrals; the
    reference's grid (sums for integrals) moves them by ~0.2 %, which the expectations
    take from the sums."""
    stimulus, signal = recorded[name]
    derived = stimulus.shot_parameters(NODE)
    expected_mean, expected_variance, per_ms_mean, per_ms_variance = shot_noise_expectations(
        derived.rate, derived.amp_mean, derived.amp_var)
    assert expected_mean == pytest.approx(mean, rel=0.005)
    assert math.sqrt(expected_variance) == pytest.approx(sigma, rel=0.005)
    check_shot_noise(name, signal, expected_mean, expected_variance, per_ms_mean,
                     per_ms_variance)


def ornstein_uhlenbeck_check(label, signal, mean, sigma, tau):
    """Samples of an OU process every dt form an AR(1) series of coefficient
    a = exp(-dt / tau); over n samples: Var(mean) = sigma^2 (1 + a) / ((1 - a) n),
    Var(variance) = 2 sigma^4 (1 + a^2) / ((1 - a^2) n), Var(lag-1 correlation) =
    (1 - a^2) / n, and Bartlett's formula for the correlation at lag L."""
    a = math.exp(-DT / tau)
    n = signal.size
    check(f"{label} mean", signal.mean(), mean, sigma * math.sqrt((1 + a) / ((1 - a) * n)))
    check(f"{label} sd", signal.std(), sigma,  # sd error = variance error / (2 sigma)
          sigma * math.sqrt(2 * (1 + a * a) / ((1 - a * a) * n)) / 2)
    centred = signal - signal.mean()
    variance = (centred ** 2).mean()

    def correlation(lag):
        return (centred[:, :-lag] * centred[:, lag:]).mean() / variance
    lag1 = correlation(1)
    check(f"{label} lag-1 correlation", lag1, a, math.sqrt((1 - a * a) / n))
    print(f"{label} correlation time from lag 1: {-DT / math.log(lag1):.4g} ms (tau {tau} ms)")
    lag = int(round(tau / DT))
    bartlett = ((1 + a * a) * (1 - a ** (2 * lag)) / (1 - a * a) - 2 * lag * a ** (2 * lag)) / n
    check(f"{label} correlation at lag tau", correlation(lag), math.exp(-1), math.sqrt(bartlett))


def test_ornstein_uhlenbeck_current(recorded):
    _, signal = recorded["ou"]
    ornstein_uhlenbeck_check("ou", signal, 0.1, 0.03, 5.0)


def test_relative_ornstein_uhlenbeck_conductance(recorded):
    _, signal = recorded["relative_ou"]
    # 100 % and 15 % of 0.01 uS: 6.7 sd above 0, so clipping at 0 never happens here.
    assert signal.min() > 0
    ornstein_uhlenbeck_check("relative ou", signal, 0.01, 0.0015, 3.0)


def test_streams_are_independent_between_cells(recorded):
    """Different gids draw different streams. For independent series the sample
    correlation has variance (1/n) sum over lags of rho1 rho2 <= tau_c / (dt n), with
    tau_c <= 10 ms the longest correlation time here (2 decay times)."""
    for name in ("noise", "shot", "ou"):
        _, signal = recorded[name]
        first, second = signal[0], signal[1]
        correlation = np.corrcoef(first, second)[0, 1]
        assert not np.array_equal(first, second)
        assert abs(correlation) < Z * math.sqrt(10.0 / DT / first.size)
