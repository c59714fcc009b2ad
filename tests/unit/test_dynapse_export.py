"""A small SONATA point-neuron network through the whole export: read, build, write, read back."""

import dataclasses
import json

import numpy as np
import pytest

from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.cli import main
from neurodamus.export.dynapse.errors import NetworkDataError
from neurodamus.export.dynapse.inputs import read_replay_spikes
from neurodamus.export.dynapse.network import open_configs, read_network
from neurodamus.export.dynapse.testing import (
    Edges,
    PointNetworkSpec,
    PointPopulation,
    example_spec,
    write_network,
)
from neurodamus.export.dynapse.writer import read_json, read_npz, write_export


@pytest.fixture
def example(tmp_path):
    return write_network(tmp_path / "circuit", example_spec())


def assert_same_config(actual, expected):
    for field in dataclasses.fields(expected):
        a, b = getattr(actual, field.name), getattr(expected, field.name)
        if isinstance(b, np.ndarray):
            assert a.dtype.kind == b.dtype.kind, field.name
            assert a.shape == b.shape, field.name
            assert np.array_equal(a, b), field.name
        else:
            assert a == b or (np.isnan(a) and np.isnan(b)), field.name


def test_reads_intfire1_and_lif_in_mv_as_dimensionless(example):
    network = read_network(open_configs(example))
    assert list(network.population) == ["exc"] * 6 + ["lif"] * 4
    assert list(network.kind) == ["IntFire1"] * 6 + ["LIF"] * 4
    assert network.mv_per_unit == 15.0                   # median V_th - E_L (E_L as V_rest)
    p = network.params
    np.testing.assert_allclose(p.threshold, 1.0)
    np.testing.assert_allclose(p.tau_mem_ms, [20] * 6 + [20, 20, 18, 22])
    np.testing.assert_allclose(p.tau_syn_ms, [1.0] * 6 + [5.0] * 4)
    # bias = I_e·tau_m / (C_m·U)
    np.testing.assert_allclose(p.bias[6:], np.array([0, 100, 150, 200]) * [20, 20, 18, 22]
                               / (250 * 15))
    # A pA weight onto lif[1] becomes syn_weight·tau_m / (C_m·U); IntFire1 weights stay.
    spec = example_spec()
    to_lif1 = (network.edge_target == 7) & ~network.edge_from_input
    np.testing.assert_allclose(network.edge_weight[to_lif1], 150.0 * 20 / (250 * 15))
    onto_exc = ~network.edge_from_input & (network.edge_target < 6)
    np.testing.assert_allclose(np.sort(network.edge_weight[onto_exc]),
                               np.sort(np.concatenate([spec.edges[3].syn_weight,
                                                       spec.edges[4].syn_weight])))
    assert list(network.input_node_id) == [0, 1, 2, 3, 4]


def test_export_round_trips_through_json_and_npz(example, tmp_path):
    config, notes = build_chip_config(read_network(open_configs(example)))
    json_path, npz_path = write_export(config, tmp_path / "out", notes)
    assert_same_config(read_json(json_path), config)
    assert_same_config(read_npz(npz_path), config)
    document = json.loads(json_path.read_text())
    assert len(document["output_map"]) == 10 and len(document["input_map"]) == 5
    assert set(document["cores"][0]["currents_A"]) >= {"Itau_mem", "Ispkthr", "Idc"}
    assert "SOIF_LEAK_N" in document["cores"][0]["chip_biases_A"]


def test_export_is_deterministic(example):
    network = read_network(open_configs(example))
    assert_same_config(build_chip_config(network)[0], build_chip_config(network)[0])


def test_command_writes_both_files_and_a_summary(example, tmp_path, capsys):
    assert main([str(example), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    for expected in ("neurons: 10 (exc 6, lif 4)", "cores used:", "synapses: 31 SONATA edges",
                     "worst weight error:", "spread above 10%"):
        assert expected in out
    assert (tmp_path / "out" / "dynapse.json").is_file()
    assert (tmp_path / "out" / "dynapse.npz").is_file()


def test_node_set_option_selects_the_neurons(example, tmp_path, capsys):
    assert main([str(example), "-o", str(tmp_path / "out"), "--node-set", "lif_only"]) == 0
    assert "neurons: 4 (lif 4)" in capsys.readouterr().out


@pytest.mark.parametrize("arguments, message", [
    (["--node-set", "nowhere"], "node set 'nowhere' is not defined"),
    (["--cores", "missing.json"], "missing.json"),
    (["--simulate", "-5"], "--simulate"),
])
def test_user_errors_are_one_line_and_exit_non_zero(example, tmp_path, capsys, arguments, message):
    assert main([str(example), "-o", str(tmp_path / "out"), *arguments]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_config_file_names_it(tmp_path, capsys):
    assert main([str(tmp_path / "nope.json"), "-o", str(tmp_path / "out")]) == 1
    assert "nope.json" in capsys.readouterr().err


def test_a_lif_without_threshold_names_population_and_accepted_names(tmp_path):
    spec = PointNetworkSpec([PointPopulation("bad", 2, "nest:iaf_psc_exp",
                                             attributes={"tau_m": 10.0, "tau_syn": 2.0})])
    path = write_network(tmp_path, spec)
    with pytest.raises(NetworkDataError, match="population 'bad': a LIF .* needs 'V_th'"):
        read_network(open_configs(path))


def test_dimensionless_lif_synonyms_in_dynamics_params(tmp_path):
    spec = PointNetworkSpec([PointPopulation("lif", 3, "lif:dimensionless", dynamics_params={
        "TAU_MEM": 15.0, "taus": 4.0, "Threshold": [1.0, 1.5, 2.0], "bias": 0.1, "refrac": 3.0})])
    network = read_network(open_configs(write_network(tmp_path, spec)))
    p = network.params
    np.testing.assert_allclose(p.threshold, [1.0, 1.5, 2.0])
    np.testing.assert_allclose([p.tau_mem_ms[0], p.tau_syn_ms[0], p.bias[0], p.t_ref_ms[0]],
                               [15.0, 4.0, 0.1, 3.0])
    assert network.mv_per_unit is None


def test_a_negative_bias_in_the_circuit_is_a_named_error(tmp_path, capsys):
    spec = PointNetworkSpec([PointPopulation("lif", 2, "lif:x", attributes={
        "tau_m": 10.0, "tau_syn": 2.0, "threshold": 1.0, "bias": [0.1, -0.3]})])
    path = write_network(tmp_path, spec)
    assert main([str(path), "-o", str(tmp_path / "out")]) == 1
    assert "neuron lif[1]: bias = -0.3 cannot be represented" in capsys.readouterr().err


def test_fan_in_over_64_is_reported_from_the_command(tmp_path, capsys):
    spec = PointNetworkSpec(
        [PointPopulation("exc", 1, dynamics_params={"tau": 10.0, "refrac": 2.0})],
        virtual={"stim": 70},
        edges=[Edges("stim", "exc", np.arange(70), np.zeros(70, int), np.full(70, 0.1))])
    path = write_network(tmp_path, spec)
    assert main([str(path), "-o", str(tmp_path / "out")]) == 1
    assert r"exc[0] has 70 presynaptic sources" in capsys.readouterr().err


def test_replayed_spikes_reach_their_input_channels(example):
    configs = open_configs(example)
    network = read_network(configs)
    times, notes = read_replay_spikes(configs, network.input_population, network.input_node_id)
    ids, spike_times = example_spec().spikes["stim"]
    for channel, node_id in enumerate(network.input_node_id):
        np.testing.assert_allclose(times[channel], np.sort(spike_times[ids == node_id]))
    assert notes == []
