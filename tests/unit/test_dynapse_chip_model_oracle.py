"""The vectorised chip model gives the spikes of the one-spike-at-a-time model it replaced.

The old model (tests/dynapse_reference_model.py) advanced every neuron through every event of
the network; the new one advances each neuron through its own events and settles a step's
spikes by iterating to their causal fixed point (chip_model.py). Same spike counts per neuron,
and spike times within the integrators' difference. The oracle runs at half the default step,
where it has converged (the old model at 0.1 ms missed the converged count of one neuron in 60
of the E/I network with feedback off; the new one at 0.1 ms does not).
"""

import numpy as np
import pytest
from dynapse_reference_model import run_chip as run_oracle
from test_dynapse_convergence import lif_network

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.chip_model import DEFAULT_DT_MS, run_chip


def feed_forward(seed=5, n=12, n_inputs=16, duration=300.0):
    rng = np.random.default_rng(seed)
    edges = [(k, True, t, rng.choice([0.8, 1.6])) for t in range(n) for k in range(n_inputs)
             if rng.random() < 0.4]
    edges += [(k, True, t, -1.0) for t in range(n) for k in range(n_inputs - 3, n_inputs)
              if rng.random() < 0.3]
    spikes = [np.sort(rng.uniform(0, duration, rng.poisson(20 * duration / 1000)))
              for _ in range(n_inputs)]
    return lif_network(n, edges, n_inputs, bias=np.linspace(0, 0.2, n)), spikes


@pytest.mark.parametrize("feedback", [True, False])
def test_same_spikes_as_the_one_spike_at_a_time_model(feedback):
    network, spikes = feed_forward()
    config, _ = build_chip_config(network)
    oracle = run_oracle(config, spikes, 300.0, DEFAULT_DT_MS / 2, feedback=feedback)
    new = run_chip(config, spikes, 300.0, feedback=feedback)
    assert oracle.counts.sum() > 20
    np.testing.assert_array_equal(new.counts, oracle.counts)
    for ours, theirs in zip(new.spike_times, oracle.spike_times):
        np.testing.assert_allclose(ours, theirs, atol=0.01)
