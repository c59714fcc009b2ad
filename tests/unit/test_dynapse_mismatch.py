"""--mismatch PERCENT --seed S: per-neuron currents with the requested spread, reproducibly."""

import re

import numpy as np
import pytest

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.chip_model import simulate_chip
from neurodamus.export.dynapse.cli import main
from neurodamus.export.dynapse.errors import ExportConfigError
from neurodamus.export.dynapse.mismatch import mismatched_config
from neurodamus.export.dynapse.network import PointNetwork
from neurodamus.export.dynapse.parameters import I_0, LifParameters
from neurodamus.export.dynapse.testing import example_spec, write_network


def population(n=300, seed=0):
    """n LIFs driven by a bias (some above threshold), each fed by one of 4 input channels."""
    rng = np.random.default_rng(seed)
    target = np.arange(n)
    return PointNetwork(
        population=np.full(n, "pop"), node_id=np.arange(n), kind=np.full(n, "LIF"),
        params=LifParameters(np.full(n, 10.0), np.full(n, 5.0), np.ones(n),
                             rng.uniform(0.8, 1.6, n), np.zeros(n), np.full(n, 2.0)),
        input_population=np.full(4, "stim"), input_node_id=np.arange(4),
        edge_source=target % 4, edge_from_input=np.ones(n, bool), edge_target=target,
        edge_weight=rng.uniform(0.5, 2.0, n), edge_delay_ms=np.ones(n), mv_per_unit=None)


@pytest.fixture(scope="module")
def config():
    return build_chip_config(population())[0]


def relative_changes(config, perturbed):
    nominal = np.concatenate([config.core_currents[config.neuron_core_row].ravel(),
                              config.core_base_weights[config.neuron_core_row].ravel()])
    drawn = np.concatenate([perturbed.core_currents.ravel(),
                            perturbed.core_base_weights.ravel()])
    on = nominal > 0
    return drawn[on] / nominal[on] - 1, drawn[~on]


@pytest.mark.parametrize("percent", [5.0, 20.0])
def test_currents_change_by_the_requested_spread(config, percent):
    perturbed, report = mismatched_config(config, percent, seed=11)
    change, off = relative_changes(config, perturbed)
    assert len(change) > 3000
    assert np.std(change) == pytest.approx(percent / 100, rel=0.05)
    assert abs(np.mean(change)) < 0.1 * percent / 100
    assert report.spread == pytest.approx(np.std(change))
    assert report.n_currents == len(change) and report.n_clipped == 0
    assert np.all(off == 0)                       # a circuit that is off stays off
    assert f"mismatch: {percent:g}% (seed 11)" in report.summary()


def test_every_neuron_gets_its_own_currents_at_its_own_address(config):
    perturbed, _ = mismatched_config(config, 10.0, seed=1)
    n = len(config.neuron_node_id)
    assert perturbed.core_currents.shape == (n, config.core_currents.shape[1])
    assert np.array_equal(perturbed.neuron_core_row, np.arange(n))
    assert len(np.unique(perturbed.core_currents[:, 0])) == n       # Itau_mem, per neuron
    for name in ("neuron_chip", "neuron_core", "neuron_address", "cam_mask", "dest_tag"):
        assert np.array_equal(getattr(perturbed, name), getattr(config, name)), name


def test_reproducible_by_seed(config):
    first, _ = mismatched_config(config, 10.0, seed=3)
    again, _ = mismatched_config(config, 10.0, seed=3)
    other, _ = mismatched_config(config, 10.0, seed=4)
    assert np.array_equal(first.core_currents, again.core_currents)
    assert np.array_equal(first.core_base_weights, again.core_base_weights)
    assert not np.array_equal(first.core_currents, other.core_currents)


def test_no_mismatch_simulates_exactly_the_export_and_mismatch_changes_it():
    config, _ = build_chip_config(population(n=60))
    inputs = [np.arange(2.0, 100.0, 7.0 + k) for k in range(4)]
    nominal = simulate_chip(config, inputs, 100.0)
    same, _ = mismatched_config(config, 0.0, seed=5)
    assert np.array_equal(simulate_chip(same, inputs, 100.0), nominal)
    assert nominal.sum() > 0
    spread, _ = mismatched_config(config, 20.0, seed=5)
    counts = simulate_chip(spread, inputs, 100.0)
    assert not np.array_equal(counts, nominal)
    assert np.array_equal(simulate_chip(mismatched_config(config, 20.0, seed=5)[0], inputs,
                                        100.0), counts)


def test_a_draw_below_zero_is_clipped_at_the_dark_current():
    small, _ = build_chip_config(population(n=40))
    perturbed, report = mismatched_config(small, 100.0, seed=2)
    _, off = relative_changes(small, perturbed)
    assert report.n_clipped > 0
    assert np.all(perturbed.core_currents[small.core_currents[small.neuron_core_row] > 0] > 0)
    assert np.sum(perturbed.core_currents == I_0) + np.sum(
        perturbed.core_base_weights == I_0) == report.n_clipped
    assert np.all(off == 0)


@pytest.mark.parametrize("percent", [-1.0, 150.0, float("nan")])
def test_a_percentage_outside_0_to_100_is_refused(config, percent):
    with pytest.raises(ExportConfigError, match="--mismatch.*from 0 to 100"):
        mismatched_config(config, percent, seed=0)


@pytest.mark.parametrize("arguments, message", [
    (["--mismatch", "5"], "--mismatch.*needs --simulate"),
    (["--mismatch", "-2", "--simulate", "10"], "--mismatch.*from 0 to 100"),
])
def test_command_refuses_mismatch_it_cannot_use(tmp_path, capsys, arguments, message):
    sim_config = write_network(tmp_path / "circuit", example_spec())
    assert main([str(sim_config), "-o", str(tmp_path / "out"), *arguments]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert re.search(message, error)


def test_command_runs_the_chip_model_with_mismatch(tmp_path, capsys):
    sim_config = write_network(tmp_path / "circuit", example_spec(tstop=50.0))
    arguments = [str(sim_config), "-o", str(tmp_path / "out"), "--simulate", "50",
                 "--mismatch", "10", "--seed", "7"]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert "mismatch: 10% (seed 7)" in printed
    assert "measured spread" in printed
