"""The noise modules draw the reference simulator's numbers.

An independent, scalar implementation of Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel
random numbers: as easy as 1, 2, 3", SC'11), checked on the known-answer vectors of the
Random123 distribution, plus the transforms NEURON applies to its words (nrnran123 and the
libg++ distributions behind `Random`), give the samples the `noise` module must produce for
given (stimulus_seed, gid, block) keys; and for the other modules the reference's own
sequence of `Random` calls, run on NEURON's `h.Random` itself, must give what ours give.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from random123_reference import MASK, neuron_uniforms, philox4x32_10

from neurodamus.config.settings import InputSettings
from neurodamus.random.neuron_random import NeuronRandom
from neurodamus.stimuli import STIMULUS_MODULES, StimulusContext


@pytest.mark.parametrize("counter, key, expected", [  # Random123's kat_vectors
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK,) * 4, (MASK, MASK), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_independent_philox_known_answers(counter, key, expected):
    assert tuple(philox4x32_10(counter, key)) == expected


def polar_normals(uniforms):
    """libg++'s Normal: the polar method on consecutive pairs, both values of a pair used."""
    while True:
        v1, v2 = 2 * next(uniforms) - 1, 2 * next(uniforms) - 1
        w = v1 * v1 + v2 * v2
        if w <= 1:
            factor = math.sqrt(-2 * math.log(w) / w)
            yield v1 * factor
            yield v2 * factor


@dataclass
class Node:
    gid: int
    node_id: int = 0
    population: str = "cortex"
    threshold_current: float = 0.35


def noise_waveform(gid, delay, context, **parameters):
    settings = InputSettings(name="drive", module="noise", input_type="current_clamp",
                             node_set="All", delay=delay, duration=200.0, parameters=parameters)
    stimulus: Any = STIMULUS_MODULES["noise"](settings)  # a noise module: it has waveforms
    return stimulus.waveforms(Node(gid), context, 1)[0]


@pytest.mark.parametrize("stimulus_seed, gid, block, random_seed", [
    (0, 0, 0, 0), (1234, 41, 2, 767740), (7, 99999, 0, 2**32 - 1)])
def test_noise_samples_are_the_reference_draws(stimulus_seed, gid, block, random_seed):
    """Reference ids: (block + 100, stimulus_seed + 500, gid + 301) (its 0-based gid plus
    one, plus 300); `normal(mean, variance)` is chosen, its first draw discarded, then one
    draw per sample: mean + sqrt(variance) z."""
    context = StimulusContext(stimulus_seed=stimulus_seed, dt=0.025, tstop=300.0,
                              block_index=block, random_seed=random_seed)
    waveform = noise_waveform(gid, 0.0, context, mean=0.2, variance=0.04)
    normals = polar_normals(neuron_uniforms(block + 100, stimulus_seed + 500, gid + 301,
                                            random_seed))
    next(normals)
    expected = [0.2 + 0.2 * next(normals) for _ in range(400)]
    samples = waveform.values[1:-1]  # 0 before the window and after it
    assert samples.size == 401  # t = 0, 0.5, ..., 200: both ends of the window
    np.testing.assert_allclose(samples[:400], expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(waveform.times[1:-1], 0.5 * np.arange(401))


def test_noise_after_a_delay_first_discards_the_reference_draws():
    """A noise starting at 10 ms, with run dt 0.025 ms: the reference first draws the samples
    of a 0.5 ms grid from 0 to 9.975 ms (20 values, the default normal(0, 1) of a new
    Random), then proceeds as without delay: 10 pairs used, the next pair's first value
    discarded."""
    context = StimulusContext(stimulus_seed=3, dt=0.025, tstop=300.0, block_index=1,
                              random_seed=5)
    waveform = noise_waveform(17, 10.0, context, mean_percent=50.0, variance=2.0)
    normals = polar_normals(neuron_uniforms(101, 503, 318, 5))
    for _ in range(20 + 1):
        next(normals)
    # Relative: mean 50 % of 0.35 nA, variance 2 % of it "in nA^2", as the reference reads it.
    mean, variance = 0.35 * 50.0 / 100, 0.35 * 2.0 / 100
    expected = [mean + math.sqrt(variance) * next(normals) for _ in range(100)]
    np.testing.assert_allclose(waveform.values[1:101], expected, rtol=0, atol=1e-12)
    assert waveform.times[0] == waveform.times[1] == 10.0 and waveform.values[0] == 0.0


@pytest.fixture()
def h():
    """NEURON, with Random123's global index restored afterwards (it is process-wide)."""
    from neuron import h
    before = int(h.Random().Random123_globalindex())
    yield h
    h.Random().Random123_globalindex(before)


def test_emulation_is_neurons_random(h):
    """Every distribution call the modules make, in a mixed order, against NEURON's own."""
    def script(r, fill):
        return [fill(7), r.normal(0.3, 2.0), fill(5), fill(20001), r.uniform(-2.0, 3.0), fill(9),
                r.negexp(0.7), fill(1000), r.normal(0.0, 1.0), r.uniform(0.0, 1.0), fill(3)]
    for ids, global_index in [((1, 2, 3), 0), ((100, 500, 301), 767740)]:
        h.Random().Random123_globalindex(global_index)
        theirs = h.Random()
        theirs.Random123(*ids)
        ours = NeuronRandom(ids, global_index)
        expected = script(theirs, lambda n, r=theirs: np.array(h.Vector(n).setrand(r)))
        got = script(ours, ours.draw)
        np.testing.assert_array_equal(np.concatenate([np.ravel(x) for x in got]),
                                      np.concatenate([np.ravel(x) for x in expected]))


def reference_gamma(r, shape, scale, count):
    """Marsaglia-Tsang on NEURON's Random, as the reference draws it."""
    if shape < 1:
        r.uniform(0, 1)
        boost = [r.repick() for _ in range(count)]
        return [g * b ** (1 / shape) for g, b in
                zip(reference_gamma(r, shape + 1, scale, count), boost)]
    d = shape - 1 / 3
    c = 1 / 3 / math.sqrt(d)
    values: list[float] = []
    while len(values) < count:
        x = r.normal(0, 1)
        v = 1 + c * x
        if v > 0:
            v = v ** 3
            u = r.uniform(0, 1)
            if u < 1 - 0.0331 * x ** 4 or math.log(u) < 0.5 * x * x + d * (1 - v + math.log(v)):
                values.append(scale * d * v)
    return values


def reference_shot_noise(r, count, dt, duration, rate, amp_mean, amp_var, rise, decay):
    estimate = 1 + int(duration * rate / 1000)
    estimate = int(estimate + 3 * math.sqrt(estimate))
    r.negexp(1 / rate)
    times = np.cumsum([r.repick() for _ in range(estimate)]) * 1000
    steps = [round(t / dt) for t in times if t < duration]
    steps = [s for s in steps if s < count]
    scale = amp_var / amp_mean
    amplitudes = reference_gamma(r, amp_mean / scale, scale, len(steps))
    impulses = np.zeros(count)
    for step, amplitude in zip(steps, amplitudes):
        impulses[step] += amplitude
    a, b = math.exp(-dt / decay), math.exp(-dt / rise)
    p, q = np.zeros(count), np.zeros(count)
    for n in range(1, count):
        p[n] = a * p[n - 1] + b * q[n - 1]
        q[n] = b * q[n - 1] + impulses[n - 1]
    peak = math.log(math.log(b) / math.log(a)) / (math.log(a) - math.log(b))
    return p * (a / b - 1) / (a ** peak - b ** peak)


def reference_ornstein_uhlenbeck(r, count, dt, tau, mean, sigma):
    r.normal(0, 1)
    normals = [r.repick() for _ in range(count)]
    decay = math.exp(-dt / tau)
    signal = [0.0]
    for n in range(1, count):
        signal.append(signal[-1] * decay + sigma * math.sqrt(1 - decay * decay) * normals[n])
    return np.array(signal) + mean


def module_samples(module, gid, context, **parameters):
    settings = InputSettings(name="drive", module=module, input_type="current_clamp",
                             node_set="All", delay=5.0, duration=300.0, parameters=parameters)
    stimulus: Any = STIMULUS_MODULES[module](settings)  # a noise module: it has waveforms
    return stimulus.waveforms(Node(gid), context, 1)[0].values[1:-1]


@pytest.mark.parametrize("shape", [4.0, 0.5])  # gamma amplitudes of shape above and below 1
def test_shot_noise_is_the_reference_draws(h, shape):
    """Reference ids (block + 2997, stimulus_seed + 19216, gid + 124); the reference's calls
    on NEURON's Random give our samples (1e-12: the same operations up to the order of a
    few roundings in this re-statement)."""
    amp_mean = 0.05
    amp_var = amp_mean ** 2 / shape
    context = StimulusContext(stimulus_seed=12, dt=0.025, tstop=400.0, block_index=3,
                              random_seed=99)
    got = module_samples("shot_noise", 40, context, rise_time=0.5, decay_time=4.0, rate=900.0,
                         amp_mean=amp_mean, amp_var=amp_var)
    h.Random().Random123_globalindex(99)
    r = h.Random()
    r.Random123(3 + 2997, 12 + 19216, 40 + 124)
    expected = reference_shot_noise(r, 1201, 0.25, 300.0, 900.0, amp_mean, amp_var, 0.5, 4.0)
    assert got.size == expected.size == 1201
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert np.count_nonzero(got) > 1000


def test_ornstein_uhlenbeck_is_the_reference_draws(h):
    """Reference ids (block + 2997, stimulus_seed + 291204, gid + 124); the process starts at
    the mean."""
    context = StimulusContext(stimulus_seed=0, dt=0.025, tstop=400.0, block_index=0,
                              random_seed=767740)
    got = module_samples("ornstein_uhlenbeck", 8, context, tau=5.0, mean=0.1, sigma=0.03)
    h.Random().Random123_globalindex(767740)
    r = h.Random()
    r.Random123(2997, 291204, 8 + 124)
    expected = reference_ornstein_uhlenbeck(r, 1201, 0.25, 5.0, 0.1, 0.03)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got[0] == 0.1


def test_random_seed_makes_all_cells_draw_the_same():
    """An input's random_seed replaces the gid in the ids (the reference's correlated mode)."""
    context = StimulusContext(stimulus_seed=1, dt=0.025, tstop=400.0)
    first, second = (module_samples("ornstein_uhlenbeck", gid, context, tau=2.0, mean=0.0,
                                    sigma=1.0, random_seed=5) for gid in (3, 70))
    assert np.array_equal(first, second)
    assert not np.array_equal(first, module_samples("ornstein_uhlenbeck", 3, context, tau=2.0,
                                                    mean=0.0, sigma=1.0))
