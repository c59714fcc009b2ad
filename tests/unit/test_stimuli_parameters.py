"""What the modules derive from their parameters and from the nodes, without NEURON:
Campbell's theorem for the shot-noise variants (integrals taken numerically here), the
relative amplitudes, the errors for nodes that lack an attribute, and the building blocks
(waveform sums, the sample grid, keyed random streams; their numbers against the reference
simulator's are in test_stimuli_random123.py)."""

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pytest

from neurodamus.config.settings import InputSettings
from neurodamus.errors import CircuitError
from neurodamus.stimuli import STIMULUS_MODULES, StimulusContext
from neurodamus.stimuli.biexponential import BiexponentialKernel, parameters_from_moments
from neurodamus.stimuli.waveforms import SampledTimes, indgen, pulse_train, ramp

RISE, DECAY = 0.4, 4.0
CONTEXT = StimulusContext(stimulus_seed=7, dt=0.025, tstop=100.0)


@dataclass
class Node:
    """The node values a cell carries (NaN: the nodes file lacks the attribute)."""

    threshold_current: float = 0.3
    holding_current: float = -0.07
    input_resistance: float = 200.0
    gid: int = 12
    node_id: int = 12
    population: str = "cortex"


def stimulus(module, input_type="current_clamp", delay=5.0, duration=50.0, **parameters):
    settings = InputSettings(name="drive", module=module, input_type=input_type, node_set="All",
                             delay=delay, duration=duration, parameters=parameters)
    return STIMULUS_MODULES[module](settings)


def kernel_integrals_numerically(rise, decay):
    """I_1..I_3 of the peak-normalised bi-exponential, by the trapezoid rule on a grid of
    rise/400 over 40 decay times (the tail beyond holds e^-40 of the mass): relative error
    ~ (step/rise)^2 / 12 < 1e-6."""
    t = np.arange(0, 40 * decay, rise / 400)
    shape = np.exp(-t / decay) - np.exp(-t / rise)
    h = shape / shape.max()
    return [np.trapezoid(h ** p, t) for p in (1, 2, 3)]


def test_kernel_integrals_match_numerical_integration():
    kernel = BiexponentialKernel(RISE, DECAY)
    numeric = kernel_integrals_numerically(RISE, DECAY)
    # The grid maximum misses the true peak by < (step)^2 * |h''| ~ 1e-7 relative.
    assert [kernel.integral(p) for p in (1, 2, 3)] == pytest.approx(numeric, rel=1e-5)


def campbell(rate_hz, amp_mean, amp_var, integrals):
    """Mean, variance, skewness of shot noise with gamma amplitudes (Campbell / Rice)."""
    rate = rate_hz / 1000
    shape = amp_mean ** 2 / amp_var if amp_var > 0 else math.inf
    scale = amp_var / amp_mean
    m2 = amp_var + amp_mean ** 2
    m3 = (shape * (shape + 1) * (shape + 2) * scale ** 3 if amp_var > 0 else amp_mean ** 3)
    mean, variance = rate * amp_mean * integrals[0], rate * m2 * integrals[1]
    return mean, variance, rate * m3 * integrals[2] / variance ** 1.5


def skewness_range(mean, sigma, integrals):
    """Smallest and largest skewness of gamma-amplitude shot noise with this mean and
    sigma, scanning the gamma shape k from 1e-7 to 1e7 (the bounds are the limits)."""
    skews = []
    for k in np.logspace(-7, 7, 57):
        # Campbell's two equations solved for the scale and the rate at this shape.
        scale = sigma ** 2 * integrals[0] / (mean * (k + 1) * integrals[1])
        rate = mean / (k * scale * integrals[0])
        skews.append(rate * k * (k + 1) * (k + 2) * scale ** 3 * integrals[2] / sigma ** 3)
    return min(skews), max(skews)


@pytest.mark.parametrize("mean, sigma, relative_skew", [
    (0.2, 0.05, 0.5), (0.2, 0.05, 0.0), (0.05, 0.1, 0.9), (1.5, 0.2, 0.25)])
def test_shot_noise_derived_from_mean_and_sigma(mean, sigma, relative_skew):
    integrals = kernel_integrals_numerically(RISE, DECAY)
    derived = parameters_from_moments(BiexponentialKernel(RISE, DECAY), mean, sigma, relative_skew)
    got_mean, got_variance, got_skew = campbell(derived.rate, derived.amp_mean, derived.amp_var,
                                                integrals)
    lowest, highest = skewness_range(mean, sigma, integrals)
    # 1e-5: the numerical integrals' accuracy; 1e-4 for the skewness, whose bounds are
    # limits approached to within 1e-7 by the scan.
    assert got_mean == pytest.approx(mean, rel=1e-5)
    assert math.sqrt(got_variance) == pytest.approx(sigma, rel=1e-5)
    assert got_skew == pytest.approx(lowest + relative_skew * (highest - lowest), rel=1e-4)
    assert derived.rate > 0 and derived.amp_mean > 0 and derived.amp_var >= 0


def test_negative_mean_gives_negative_pulses():
    kernel = BiexponentialKernel(RISE, DECAY)
    positive = parameters_from_moments(kernel, 0.2, 0.05, 0.5)
    negative = parameters_from_moments(kernel, -0.2, 0.05, 0.5)
    assert (negative.rate, negative.amp_mean, negative.amp_var) == (
        positive.rate, -positive.amp_mean, positive.amp_var)


@pytest.mark.parametrize("input_type, scale", [("current_clamp", 0.3), ("conductance", 1 / 200.0)])
def test_relative_shot_noise_scales_by_threshold_or_conductance(input_type, scale):
    relative = stimulus("relative_shot_noise", input_type, rise_time=RISE, decay_time=DECAY,
                        mean_percent=40, sd_percent=10, relative_skew=0.3)
    absolute = stimulus("absolute_shot_noise", input_type, rise_time=RISE, decay_time=DECAY,
                        mean=0.4 * scale, sigma=0.1 * scale, relative_skew=0.3)
    got, expected = relative.shot_parameters(Node()), absolute.shot_parameters(Node())
    assert got.rate == pytest.approx(expected.rate, rel=1e-12)
    assert got.amp_mean == pytest.approx(expected.amp_mean, rel=1e-12)
    integrals = kernel_integrals_numerically(RISE, DECAY)
    mean, variance, _ = campbell(got.rate, got.amp_mean, got.amp_var, integrals)
    assert (mean, math.sqrt(variance)) == pytest.approx((0.4 * scale, 0.1 * scale), rel=1e-5)


@pytest.mark.parametrize("module, parameters, expected", [
    ("relative_linear", {"percent_start": 50, "percent_end": 150}, (0.15, 0.45)),
    ("relative_linear", {"percent_start": 80}, (0.24, 0.24)),
    ("linear", {"amp_start": 0.1, "amp_end": -0.2}, (0.1, -0.2)),
])
def test_ramp_amplitudes(module, parameters, expected):
    assert stimulus(module, **parameters).amplitudes(Node()) == pytest.approx(expected, rel=1e-15)


def test_threshold_steps():
    assert stimulus("subthreshold", percent_less=20).amplitude(Node()) == pytest.approx(0.24)
    assert stimulus("subthreshold", percent_less=-20).amplitude(Node()) == pytest.approx(0.36)
    assert stimulus("hyperpolarizing").amplitude(Node()) == -0.07


def test_noise_mean_and_variance():
    assert stimulus("noise", mean=0.1, variance=0.01).mean_and_variance(Node()) == (0.1, 0.01)
    # mean_percent makes variance a percentage of the threshold current too (nA^2 = % * nA).
    relative = stimulus("noise", mean_percent=50, variance=2).mean_and_variance(Node())
    assert relative == pytest.approx((0.15, 0.006), rel=1e-15)


def test_ornstein_uhlenbeck_relative_values():
    current = stimulus("relative_ornstein_uhlenbeck", tau=5, mean_percent=50, sd_percent=10)
    conductance = stimulus("relative_ornstein_uhlenbeck", "conductance", tau=5, mean_percent=50,
                           sd_percent=10)
    assert current.mean_and_sigma(Node()) == pytest.approx((0.15, 0.03), rel=1e-15)
    assert conductance.mean_and_sigma(Node()) == pytest.approx((0.0025, 0.0005), rel=1e-15)


@pytest.mark.parametrize("module, input_type, parameters, attribute", [
    ("relative_linear", "current_clamp", {"percent_start": 50}, "threshold_current"),
    ("subthreshold", "current_clamp", {"percent_less": 10}, "threshold_current"),
    ("hyperpolarizing", "current_clamp", {}, "holding_current"),
    ("noise", "current_clamp", {"mean_percent": 50, "variance": 1}, "threshold_current"),
    ("relative_shot_noise", "conductance",
     {"rise_time": RISE, "decay_time": DECAY, "mean_percent": 50, "sd_percent": 10},
     "input_resistance"),
    ("relative_ornstein_uhlenbeck", "current_clamp",
     {"tau": 5, "mean_percent": 50, "sd_percent": 10}, "threshold_current"),
])
def test_node_without_the_attribute_is_an_error(module, input_type, parameters, attribute):
    node = Node(**cast(dict[str, Any], {attribute: math.nan}))
    with pytest.raises(CircuitError) as error:
        stimulus(module, input_type, **parameters).waveform(node, CONTEXT, 0)
    message = str(error.value)
    assert "population 'cortex'" in message and f"@dynamics/{attribute}" in message
    assert "input 'drive'" in message and "node 12" in message
    stimulus(module, input_type, **parameters).waveform(Node(), CONTEXT, 0)  # fine with it


def test_non_positive_input_resistance_is_an_error():
    noise = stimulus("relative_ornstein_uhlenbeck", "conductance", tau=5, mean_percent=50,
                     sd_percent=10)
    with pytest.raises(CircuitError, match="positive @dynamics/input_resistance"):
        noise.waveform(Node(input_resistance=0.0), CONTEXT, 0)


# -- building blocks ---------------------------------------------------------------------

def test_waveform_sum_keeps_jumps():
    first = ramp(1.0, 2.0, 1.0, 3.0)  # jumps at 1 and 3
    second = pulse_train(2.0, 3.0, 10.0, 0.5, 1.0)  # pulses at 2, 3, 4
    total = first + second
    probes = np.array([0.5, 1.0, 1.5, 2.0, 2.25, 2.75, 3.0, 3.25, 4.25, 5.0, 6.0])
    for side in ("left_limits", "right_limits"):
        expected = getattr(first, side)(probes) + getattr(second, side)(probes)
        assert getattr(total, side)(probes) == pytest.approx(expected, abs=1e-15)
    # At 3 the ramp ends (3 -> 0) as a pulse starts (0 -> 10): two values at one time.
    assert (total.left_limits([3.0])[0], total.right_limits([3.0])[0]) == (3.0, 10.0)


def test_sample_grid_is_neurons_indgen():
    """The reference samples at Vector.indgen(delay, delay + duration, dt): the end is a
    sample when duration is a multiple of dt (to 1e-9 of a step), then the signal jumps to
    0; otherwise the last sample is joined linearly to 0 at the end."""
    assert indgen(5.0, 7.0, 0.5).tolist() == [5.0, 5.5, 6.0, 6.5, 7.0]
    assert indgen(0.0, 0.3, 0.1).size == 4  # 0.3 / 0.1 = 2.9999999999999996
    assert indgen(0.0, 3 - 2e-9, 1.0).size == 3
    grid = SampledTimes.on_grid(5.0, 1.2, 0.5)
    wave = grid.waveform([1.0, 2.0, 3.0])
    assert wave.times.tolist() == [5.0, 5.0, 5.5, 6.0, 6.2]
    assert wave.values.tolist() == [0.0, 1.0, 2.0, 3.0, 0.0]
    assert wave.right_limits([5.25, 6.1]) == pytest.approx([1.5, 1.5])


def test_noise_cells_draw_independent_streams():
    noise = stimulus("ornstein_uhlenbeck", tau=2, mean=0.0, sigma=1.0)
    first = noise.waveform(Node(gid=1), CONTEXT, 0).values
    assert np.array_equal(first, noise.waveform(Node(gid=1), CONTEXT, 0).values)
    assert not np.array_equal(first, noise.waveform(Node(gid=2), CONTEXT, 0).values)
    other_block = StimulusContext(stimulus_seed=7, dt=0.025, tstop=100.0, block_index=1)
    assert not np.array_equal(first, noise.waveform(Node(gid=1), other_block, 0).values)
    other_seed = StimulusContext(stimulus_seed=8, dt=0.025, tstop=100.0)
    assert not np.array_equal(first, noise.waveform(Node(gid=1), other_seed, 0).values)
    # The reference gives each site of a cell a new stream with the same ids.
    sites = noise.waveforms(Node(gid=1), CONTEXT, 3)
    assert all(np.array_equal(first, site.values) for site in sites)
    # noise instead continues one stream from site to site.
    white = stimulus("noise", mean=0.0, variance=1.0)
    one, two = white.waveforms(Node(gid=1), CONTEXT, 2)
    assert not np.array_equal(one.values, two.values)
    assert np.array_equal(one.values, white.waveform(Node(gid=1), CONTEXT, 0).values)


def test_ornstein_uhlenbeck_starts_at_the_mean():
    """The reference starts the process at its mean (x[0] = mean, then the exact update), not
    from its stationary distribution; the spread reaches sigma^2 (1 - a^(2n)) after n steps."""
    from neurodamus.random.neuron_random import NeuronRandom
    from neurodamus.stimuli.random_signals import ornstein_uhlenbeck
    draws = np.array([ornstein_uhlenbeck(NeuronRandom((1, 2, gid)), 41, 0.25, 5.0, 1.0, 0.2)
                      for gid in range(4000)])
    assert np.all(draws[:, 0] == 1.0)
    spread = 0.04 * (1 - math.exp(-2 * 40 * 0.25 / 5.0))
    assert draws[:, 40].var() == pytest.approx(spread, rel=5 * math.sqrt(2 / 4000))


def test_no_op_inputs_do_not_count():
    """The reference skips, without counting in their family, a shot noise of rate 0, a
    relative shot noise of mean_percent 0 and one whose window holds no whole dt."""
    from neurodamus.stimuli.manager import block_indices
    shot = {"rise_time": RISE, "decay_time": DECAY, "amp_mean": 0.1, "amp_var": 0.01}
    stimuli = [stimulus("shot_noise", rate=0, **shot),
               stimulus("noise", mean=0.1),
               stimulus("shot_noise", rate=10, duration=0.2, **shot),
               stimulus("relative_shot_noise", rise_time=RISE, decay_time=DECAY,
                        mean_percent=0, sd_percent=10),
               stimulus("ornstein_uhlenbeck", tau=1, mean=0, sigma=1),
               stimulus("absolute_shot_noise", rise_time=RISE, decay_time=DECAY, mean=0.1,
                        sigma=0.01),
               stimulus("linear", amp_start=1.0),
               stimulus("noise", mean=0.1),
               stimulus("shot_noise", rate=10, **shot)]
    assert block_indices(stimuli) == [0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert stimuli[0].waveforms(Node(), CONTEXT, 1) == []


class FakePopulation:
    """The bulk attribute reads that cells.biophysical.placements makes."""

    def __init__(self, **columns):
        self.columns = {name: np.asarray(values, float) for name, values in columns.items()}
        self.storage = type("Storage", (), {"attribute_names": set(self.columns)})()

    def attributes(self, node_ids, names):
        return {name: self.columns[name][node_ids] for name in names}


def test_node_placement_from_quaternion_or_angles():
    from neurodamus.cells.biophysical import placements
    half = math.sqrt(0.5)  # a quarter turn about z: (w, x, y, z) = (cos 45, 0, 0, sin 45)
    quaternion = FakePopulation(x=[1, 2], y=[3, 4], z=[5, 6], orientation_w=[1, half],
                                orientation_x=[0, 0], orientation_y=[0, 0], orientation_z=[0, half])
    positions, rotations = placements(quaternion, [1])
    assert positions.tolist() == [[2, 4, 6]]
    assert rotations[0] @ [1, 0, 0] == pytest.approx([0, 1, 0], abs=1e-15)
    # Angles apply z, then y, then x (world axes): x -> y (about z) -> z (about x).
    angles = FakePopulation(rotation_angle_xaxis=[math.pi / 2], rotation_angle_zaxis=[math.pi / 2])
    positions, rotations = placements(angles, [0])
    assert positions.tolist() == [[0, 0, 0]]
    assert rotations[0] @ [1, 0, 0] == pytest.approx([0, 0, 1], abs=1e-15)
    assert placements(FakePopulation(), [0])[1][0].tolist() == np.eye(3).tolist()
