"""The chip model converges in dt, inhibition inhibits, and the linear DPI is the LIF."""

import json
import math

import numpy as np
import pytest

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.chip_model import DEFAULT_DT_MS, run_chip
from neurodamus.export.dynapse.cli import main
from neurodamus.export.dynapse.network import PointNetwork, open_configs, read_network
from neurodamus.export.dynapse.parameters import I_SCALE, LifParameters, lif_to_currents
from neurodamus.export.dynapse.testing import (
    Edges,
    PointNetworkSpec,
    PointPopulation,
    example_spec,
    write_network,
)


def lif_network(n, edges, n_inputs, tau_mem=20.0, tau_syn=5.0, bias=0.0, t_ref=2.0,
                population=None) -> PointNetwork:
    """n dimensionless LIFs (threshold 1); edges: (source, from_input, target, weight)."""
    column = [np.broadcast_to(np.asarray(v, float), (n,)).copy()
              for v in (tau_mem, tau_syn, 1.0, bias, 0.0, t_ref)]
    source, from_input, target, weight = (np.array(c) for c in zip(*edges)) if edges else (
        np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0))
    return PointNetwork(
        population=np.asarray(population if population is not None else ["pop"] * n),
        node_id=np.arange(n), kind=np.full(n, "LIF"), params=LifParameters(*column),
        input_population=np.full(n_inputs, "stim"), input_node_id=np.arange(n_inputs),
        edge_source=source.astype(np.int64), edge_from_input=from_input.astype(bool),
        edge_target=target.astype(np.int64), edge_weight=weight.astype(float),
        edge_delay_ms=np.full(len(source), 1.0), mv_per_unit=None)


def ei_network(seed=1, duration=300.0, n_exc=40, n_inh=20, n_inputs=20):
    """40 excitatory + 20 inhibitory LIFs, recurrent (p = 0.2), 20 Poisson inputs at 20 Hz."""
    rng = np.random.default_rng(seed)
    n, edges = n_exc + n_inh, []
    for target in range(n):
        edges += [(k, True, target, 1.5) for k in range(n_inputs) if rng.random() < 0.3]
        edges += [(s, False, target, 0.6 if s < n_exc else -2.0)
                  for s in range(n) if s != target and rng.random() < 0.2]
    spikes = [np.sort(rng.uniform(0, duration, rng.poisson(20 * duration / 1000)))
              for _ in range(n_inputs)]
    return lif_network(n, edges, n_inputs, population=["exc"] * n_exc + ["inh"] * n_inh), spikes


def test_counts_are_the_same_at_the_default_dt_and_half_of_it():
    network, spikes = ei_network()
    config, _ = build_chip_config(network)
    coarse = run_chip(config, spikes, 300.0, DEFAULT_DT_MS)
    fine = run_chip(config, spikes, 300.0, DEFAULT_DT_MS / 2)
    assert coarse.counts.sum() > 100
    np.testing.assert_array_equal(coarse.counts, fine.counts)
    fired = coarse.counts > 0
    np.testing.assert_allclose(coarse.first_spike_ms[fired], fine.first_spike_ms[fired],
                               atol=0.05)


def test_adding_inhibition_never_raises_a_rate_in_a_feed_forward_network():
    # 10 neurons fed by 8 excitatory channels; then 4 inhibitory channels added. The weights
    # are two magnitudes, exactly representable, so the excitatory synapses are unchanged.
    rng = np.random.default_rng(3)
    excitation = [(k, True, t, 1.0) for t in range(10) for k in range(8) if rng.random() < 0.6]
    inhibition = [(k, True, t, -2.0) for t in range(10) for k in range(8, 12)
                  if rng.random() < 0.5]
    spikes = [np.sort(rng.uniform(0, 400.0, 12)) for _ in range(12)]
    bias = np.linspace(0.0, 0.3, 10)
    counts = []
    for edges in (excitation, excitation + inhibition):
        config, _ = build_chip_config(lif_network(10, edges, 12, bias=bias))
        counts.append(run_chip(config, spikes, 400.0).counts)
    without, with_inhibition = counts
    assert without.sum() > 20
    assert (with_inhibition <= without).all(), (without, with_inhibition)
    assert with_inhibition.sum() < without.sum()


@pytest.mark.parametrize("tau_mem", [10.0, 20.0])
def test_linear_dpi_fires_at_the_lif_rate_from_1_2_to_5_times_rheobase(tau_mem):
    # Without feedback and with I_mem >> Igain_mem the DPI is the LIF
    # tau dI/dt = (Igain/Itau)(Idc - Itau) - I: rheobase Idc = Itau + Ispkthr·Itau/Igain.
    drives = np.array([1.2, 1.5, 2.0, 3.0, 4.0, 5.0])
    t_ref = 2.0
    currents = lif_to_currents(tau_mem, 5.0, 1.0, 0.0, t_ref)[0]
    itau, igain, threshold = currents[0], currents[2], currents[6]
    rheobase = itau + threshold * itau / igain
    network = lif_network(len(drives), [], 0, tau_mem=tau_mem, t_ref=t_ref,
                          bias=drives * rheobase / I_SCALE, population=[f"d{k}" for k in
                                                                         range(len(drives))])
    run = run_chip(build_chip_config(network)[0], [], 1000.0, feedback=False)
    for x, times in zip(drives, run.spike_times):
        period = t_ref + tau_mem * math.log(x / (x - 1))
        assert len(times) > 5
        assert np.mean(np.diff(times)) == pytest.approx(period, rel=0.05), x


def test_intfire1_tau_and_refrac_are_read_in_seconds(tmp_path):
    spec = PointNetworkSpec([PointPopulation("exc", 2, dynamics_params={
        "tau": [0.02, 0.03], "refrac": 0.004})])
    network = read_network(open_configs(write_network(tmp_path, spec)))
    np.testing.assert_allclose(network.params.tau_mem_ms, [20.0, 30.0])
    np.testing.assert_allclose(network.params.t_ref_ms, [4.0, 4.0])


def test_intfire1_without_tau_gets_neurons_defaults_in_ms(tmp_path):
    spec = PointNetworkSpec([PointPopulation("exc", 1)],
                            virtual={"stim": 1},
                            edges=[Edges("stim", "exc", np.array([0]), np.array([0]),
                                         np.array([1.0]))])
    network = read_network(open_configs(write_network(tmp_path, spec)))
    assert network.params.tau_mem_ms.tolist() == [10.0]
    assert network.params.t_ref_ms.tolist() == [5.0]


def test_simulate_writes_counts_first_spikes_and_dt(tmp_path):
    path = write_network(tmp_path / "circuit", example_spec(tstop=100.0))
    out = tmp_path / "out"
    assert main([str(path), "-o", str(out), "--simulate", "100", "--dt", "0.05"]) == 0
    document = json.loads((out / "simulation.json").read_text())
    assert document["chip_model"]["dt_ms"] == 0.05
    assert document["neuron"]["dt_ms"] == 0.025
    assert len(document["neurons"]) == 10
    for neuron in document["neurons"]:
        for model in ("chip_model", "neuron"):
            count, first = neuron[model]["count"], neuron[model]["first_spike_ms"]
            assert (first is None) == (count == 0)
            assert first is None or 0 <= first < 100
    assert sum(n["neuron"]["count"] for n in document["neurons"]) == document["neuron"]["total"]


def test_a_non_positive_dt_is_a_named_error(tmp_path, capsys):
    path = write_network(tmp_path / "circuit", example_spec(tstop=100.0))
    assert main([str(path), "-o", str(tmp_path / "out"), "--simulate", "10", "--dt", "0"]) == 1
    assert "--dt" in capsys.readouterr().err
