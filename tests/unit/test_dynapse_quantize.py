"""Weight quantisation per core: deterministic, never worse than 16 evenly spaced levels."""

import numpy as np
import pytest

from neurodamus.export.dynapse.quantize import (
    evenly_spaced_rounding_error,
    quantize_weights,
    squared_error,
    subset_sums,
)


def weight_sets():
    rng = np.random.default_rng(12)
    yield "uniform", rng.uniform(0.0, 2.0, 300)
    yield "lognormal", rng.lognormal(-1.0, 1.0, 200)
    yield "clustered", np.concatenate([rng.normal(0.3, 0.01, 50), rng.normal(1.7, 0.02, 50)])
    yield "two values", np.array([0.25, 0.25, 1.0, 1.0, 1.0])
    yield "one weight", np.array([0.7])
    yield "with zeros", np.array([0.0, 0.0, 0.5, 1.5])
    for seed in range(20):
        local = np.random.default_rng(seed)
        yield f"random {seed}", np.abs(local.standard_normal(local.integers(1, 80)))


@pytest.mark.parametrize("name, weights", list(weight_sets()))
def test_never_worse_than_rounding_to_16_evenly_spaced_levels(name, weights):
    base, masks = quantize_weights(weights)
    assert (base >= 0).all() and masks.min() >= 0 and masks.max() <= 15
    ours = squared_error(weights, base, masks)
    baseline = evenly_spaced_rounding_error(weights)
    assert ours <= baseline * (1 + 1e-9) + 1e-30, name


def test_deterministic_same_input_same_codes():
    weights = np.random.default_rng(3).lognormal(0.0, 0.8, 500)
    first = quantize_weights(weights)
    second = quantize_weights(weights.copy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_four_distinct_magnitudes_are_exact():
    weights = np.array([0.1, 0.35, 0.35, 0.9, 2.0, 0.1])
    base, masks = quantize_weights(weights)
    np.testing.assert_allclose(subset_sums(base)[masks], weights, rtol=1e-12)


def test_improves_on_the_baseline_where_it_can():
    # Tight clusters off the evenly spaced grid: free base weights fit them better.
    rng = np.random.default_rng(5)
    weights = np.concatenate([rng.normal(0.33, 0.002, 20), rng.normal(1.01, 0.002, 20),
                              rng.normal(1.55, 0.002, 20), [1.9]])
    base, masks = quantize_weights(weights)
    assert squared_error(weights, base, masks) < 0.5 * evenly_spaced_rounding_error(weights)


def test_no_weights_and_zero_weights():
    assert quantize_weights(np.zeros(0))[1].size == 0
    base, masks = quantize_weights(np.zeros(3))
    assert not base.any() and not masks.any()
