"""The compiled chip model gives the spikes of the NumPy model it replaced, in the same order.

The NumPy model (tests/dynapse_numpy_model.py, the chip model as it was before it was compiled)
is the reference: the same algorithm, the only difference being exp and log (the C library's
against NumPy's SIMD routines, a last-bit difference for a few percent of arguments). So every
neuron fires the same number of spikes, the spikes of the whole network come in the same order,
and each time agrees to rounding (1e-9 ms; the differences seen are ~1e-12 ms). The networks:
feed-forward with feedback on and off, a recurrent E/I network (the fixed point of each step's
spikes does the work), the same with per-neuron currents (device mismatch), and inputs on a
1 ms grid (simultaneous deliveries, summed in the same order).
"""

import numpy as np
import pytest
from dynapse_numpy_model import run_chip as run_numpy
from test_dynapse_chip_model_oracle import feed_forward
from test_dynapse_convergence import ei_network

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.chip_model import run_chip
from neurodamus.export.dynapse.mismatch import mismatched_config


def in_order(run):
    """(neuron, time) of every spike, by time (then neuron)."""
    neuron = np.concatenate([np.full(len(t), k) for k, t in enumerate(run.spike_times)])
    time = np.concatenate(list(run.spike_times))
    order = np.lexsort((neuron, time))
    return neuron[order], time[order]


def assert_same_spikes(ours, reference, at_least):
    assert reference.counts.sum() >= at_least
    np.testing.assert_array_equal(ours.counts, reference.counts)
    neuron, time = in_order(ours)
    neuron_ref, time_ref = in_order(reference)
    np.testing.assert_array_equal(neuron, neuron_ref)
    np.testing.assert_allclose(time, time_ref, rtol=0, atol=1e-9)
    assert ours.unsettled_steps == reference.unsettled_steps


@pytest.mark.parametrize("feedback", [True, False])
def test_feed_forward(feedback):
    network, spikes = feed_forward(duration=200.0)
    config, _ = build_chip_config(network)
    assert_same_spikes(run_chip(config, spikes, 200.0, feedback=feedback),
                       run_numpy(config, spikes, 200.0, feedback=feedback), 10)


def test_recurrent_excitation_and_inhibition():
    network, spikes = ei_network(duration=150.0)
    config, _ = build_chip_config(network)
    assert_same_spikes(run_chip(config, spikes, 150.0, feedback=False),
                       run_numpy(config, spikes, 150.0, feedback=False), 50)


def test_recurrent_with_mismatch_feedback_on_and_a_finer_step():
    network, spikes = ei_network(seed=2, duration=60.0)
    config = mismatched_config(build_chip_config(network)[0], 10.0, seed=4)[0]
    assert_same_spikes(run_chip(config, spikes, 60.0, dt_ms=0.05),
                       run_numpy(config, spikes, 60.0, dt_ms=0.05), 50)


def test_simultaneous_inputs_on_a_grid():
    network, spikes = ei_network(seed=3, duration=150.0)
    spikes = [np.unique(np.round(s)) for s in spikes]
    config, _ = build_chip_config(network)
    assert_same_spikes(run_chip(config, spikes, 150.0, feedback=False),
                       run_numpy(config, spikes, 150.0, feedback=False), 50)
