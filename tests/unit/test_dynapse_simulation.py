"""The check simulation: the NEURON reference against closed forms, the chip model, --simulate."""

import math

import numpy as np
import pytest

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.chip_model import simulate_chip
from neurodamus.export.dynapse.cli import main
from neurodamus.export.dynapse.network import PointNetwork
from neurodamus.export.dynapse.neuron_reference import simulate_neuron
from neurodamus.export.dynapse.parameters import LifParameters
from neurodamus.export.dynapse.testing import example_spec, write_network


def network(kind="LIF", tau_mem=10.0, tau_syn=5.0, threshold=1.0, bias=0.0, reset=0.0,
            t_ref=2.0, input_weights=(), recurrent=()):
    """One or more neurons (parameters may be lists) fed by one input channel per weight."""
    columns = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float))
                                    for v in (tau_mem, tau_syn, threshold, bias, reset, t_ref)))
    n = len(columns[0])
    edges = [(k, True, 0, w) for k, w in enumerate(input_weights)]
    edges += [(s, False, t, w) for s, t, w in recurrent]
    source, from_input, target, weight = (np.array(c) for c in zip(*edges)) if edges else (
        np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0))
    return PointNetwork(
        population=np.full(n, "pop"), node_id=np.arange(n), kind=np.full(n, kind),
        params=LifParameters(*columns), input_population=np.full(len(input_weights), "stim"),
        input_node_id=np.arange(len(input_weights)), edge_source=source.astype(np.int64),
        edge_from_input=from_input.astype(bool), edge_target=target.astype(np.int64),
        edge_weight=weight.astype(float), edge_delay_ms=np.full(len(edges), 1.0),
        mv_per_unit=None)


def lif_spike_count(tau, bias, threshold, reset, t_ref, duration):
    """Closed form for a LIF driven by a constant bias above threshold, from rest."""
    first = tau * math.log(bias / (bias - threshold))
    period = t_ref + tau * math.log((bias - reset) / (bias - threshold))
    return 1 + math.floor((duration - first) / period) if first < duration else 0


@pytest.mark.parametrize("reset", [0.0, -0.5])
def test_neuron_reference_lif_matches_the_closed_form(reset):
    expected = lif_spike_count(10.0, 1.5, 1.0, reset, 2.0, 100.0)
    assert expected in (6, 7)
    counts = simulate_neuron(network(bias=1.5, reset=reset), [], 100.0, 0.025)
    assert counts.tolist() == [expected]


def test_neuron_reference_lif_synapse_peak_is_a_quarter_of_the_weight():
    # tau_mem 10, tau_syn 5: one input of weight w peaks at w/4 (at 10·ln 2 ms).
    above = simulate_neuron(network(input_weights=[4.2]), [np.array([5.0])], 50.0, 0.025)
    below = simulate_neuron(network(input_weights=[3.8]), [np.array([5.0])], 50.0, 0.025)
    assert above.tolist() == [1] and below.tolist() == [0]


def test_neuron_reference_intfire1_counts_supra_threshold_inputs():
    spikes = [np.array([10.0, 30.0, 50.0])]
    strong = simulate_neuron(network("IntFire1", input_weights=[1.2]), spikes, 100.0, 0.025)
    weak = simulate_neuron(network("IntFire1", input_weights=[0.5]), spikes, 100.0, 0.025)
    assert strong.tolist() == [3] and weak.tolist() == [0]


def test_chip_model_is_silent_without_drive_and_fires_with_it():
    net = network(tau_mem=[10.0, 10.0], bias=[0.0, 1.5], input_weights=[])
    config, _ = build_chip_config(net)
    counts = simulate_chip(config, [], 200.0)
    assert counts[0] == 0 and counts[1] > 0
    # Refractory period 2 ms: never more than one spike per 2 ms.
    assert counts[1] <= 200.0 / 2.0


def test_chip_model_inhibition_lowers_the_count_and_runs_are_repeatable():
    spikes = [np.arange(5.0, 200.0, 5.0)]
    excited, _ = build_chip_config(network(bias=0.3, recurrent=[], input_weights=[1.0]))
    inhibited, _ = build_chip_config(network(bias=0.3, input_weights=[-1.0]))
    no_input, _ = build_chip_config(network(bias=0.3, input_weights=[]))
    baseline = simulate_chip(no_input, [], 200.0)[0]
    assert simulate_chip(excited, spikes, 200.0)[0] > baseline
    assert simulate_chip(inhibited, spikes, 200.0)[0] < baseline
    np.testing.assert_array_equal(simulate_chip(excited, spikes, 200.0),
                                  simulate_chip(excited, spikes, 200.0))


def test_simulate_option_prints_both_counts_per_neuron(tmp_path, capsys):
    path = write_network(tmp_path / "circuit", example_spec(tstop=100.0))
    assert main([str(path), "-o", str(tmp_path / "out"), "--simulate", "100"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("spike counts in 100 ms"):].splitlines()
    assert table[1].split() == ["population", "node_id", "chip", "core", "neuron", "chip", "model",
                                "NEURON"]
    rows = [line.split() for line in table[2:]]
    assert len(rows) == 11 and rows[-1][0] == "total"
    chip_counts = [int(row[5]) for row in rows[:-1]]
    neuron_counts = [int(row[6]) for row in rows[:-1]]
    assert sum(neuron_counts) == int(rows[-1][2]) and sum(chip_counts) == int(rows[-1][1])
    assert sum(neuron_counts) > 0 and sum(chip_counts) > 0
