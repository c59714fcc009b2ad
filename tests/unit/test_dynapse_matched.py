"""The matched conversion: the same constant drive (in the LIF's units) gives the same rate on
the chip model (positive feedback off) as in the LIF, analytic and in NEURON."""

import json
import math

import numpy as np
import pytest

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.chip_model import run_chip
from neurodamus.export.dynapse.cli import main
from neurodamus.export.dynapse.network import PointNetwork
from neurodamus.export.dynapse.neuron_reference import neuron_spike_times
from neurodamus.export.dynapse.parameters import LifParameters
from neurodamus.export.dynapse.testing import example_spec, write_network

DRIVES = np.array([1.2, 2.0, 3.0, 5.0])          # x LIF rheobase: bias = x · threshold
DURATION_MS = 600.0


def constant_drive_network(tau_mem, threshold, t_ref) -> PointNetwork:
    """One unconnected dimensionless LIF per drive, each in its own population (and core)."""
    n = len(DRIVES)
    tau_mem_ms, tau_syn_ms, thresholds = (np.full(n, float(v)) for v in (tau_mem, 5.0, threshold))
    params = LifParameters(tau_mem_ms, tau_syn_ms, thresholds, DRIVES * threshold, np.zeros(n),
                           np.full(n, float(t_ref)))
    empty = np.zeros(0, np.int64)
    return PointNetwork(
        population=np.array([f"x{k}" for k in range(n)]), node_id=np.zeros(n, np.int64),
        kind=np.full(n, "LIF"), params=params, input_population=np.zeros(0, str),
        input_node_id=empty, edge_source=empty, edge_from_input=np.zeros(0, bool),
        edge_target=empty, edge_weight=np.zeros(0), edge_delay_ms=np.zeros(0), mv_per_unit=None)


def mean_interval(times):
    assert len(times) > 5
    return float(np.mean(np.diff(times)))


@pytest.mark.parametrize("tau_mem, threshold, t_ref", [(10.0, 1.0, 2.0), (20.0, 1.5, 1.0),
                                                       (30.0, 2.0, 3.0)])
def test_the_same_lif_drive_gives_the_lif_rate_on_the_chip(tau_mem, threshold, t_ref):
    network = constant_drive_network(tau_mem, threshold, t_ref)
    chip = run_chip(build_chip_config(network)[0], [], DURATION_MS, feedback=False)
    neuron = neuron_spike_times(network, [], DURATION_MS, 0.025)
    for x, chip_times, neuron_times in zip(DRIVES, chip.spike_times, neuron):
        analytic = t_ref + tau_mem * math.log(x / (x - 1))
        assert mean_interval(chip_times) == pytest.approx(analytic, rel=0.05), x
        assert mean_interval(chip_times) == pytest.approx(mean_interval(neuron_times),
                                                          rel=0.05), x


def test_rockpool_currents_fire_the_same_drive_faster():
    # Rockpool's currents: gain 4 and threshold x 10 nA, so 1.2x the LIF's rheobase is 4.8x
    # the chip's, and the chip fires far faster than the LIF.
    network = constant_drive_network(20.0, 1.0, 2.0)
    matched = run_chip(build_chip_config(network)[0], [], 200.0, feedback=False)
    rockpool = run_chip(build_chip_config(network, currents="rockpool")[0], [], 200.0,
                        feedback=False)
    assert (rockpool.counts > 1.5 * matched.counts).all()


def test_command_chooses_the_conversion(tmp_path):
    path = write_network(tmp_path / "circuit", example_spec())
    thresholds = {}
    for currents in ("matched", "rockpool"):
        out = tmp_path / currents
        assert main([str(path), "-o", str(out), "--currents", currents]) == 0
        document = json.loads((out / "dynapse.json").read_text())
        thresholds[currents] = document["cores"][0]["currents_A"]["Ispkthr"]
        assert any("Rockpool's conversion" in n for n in document["notes"]) == (
            currents == "rockpool")
    assert thresholds["matched"] == pytest.approx(4 * thresholds["rockpool"])
    assert main([str(path), "-o", str(tmp_path / "x"), "--currents", "samna"]) != 0
