"""The Dynap-SE exporter reads circuits through the driver's config and dialect layer
(config.loader.open_simulation_config): the example network written the way bmtk writes
its examples (a config.json wrapper, `${configdir}` manifests, no random seed, an `h5`
spike input, node types in a CSV table, a circuit config that lists no populations) is
exported exactly as its strict SONATA original."""

import dataclasses
import json
import shutil

import h5py
import libsonata
import numpy as np
import pytest

from neurodamus.export.dynapse.inputs import read_replay_spikes
from neurodamus.export.dynapse.network import open_configs, read_network
from neurodamus.export.dynapse.testing import example_spec, write_network

MOVED_TO_TYPES = ("model_type", "model_template")


def _node_types_in_a_table(nodes_h5, table):
    """model_type / model_template of every population out of the HDF5 file into `table`
    (space separated, NONE where empty), one node type per population."""
    rows = ["node_type_id model_type model_template"]
    with h5py.File(nodes_h5, "r+") as f:
        for type_id, name in enumerate(sorted(f["nodes"]), start=100):
            population = f["nodes"][name]
            group = population["0"]
            values = [group[key][0].decode() if key in group else "NONE"
                      for key in MOVED_TO_TYPES]
            for key in MOVED_TO_TYPES:
                if key in group:
                    del group[key]
            population["node_type_id"][...] = type_id
            rows.append(f"{type_id} {' '.join(values)}")
    table.write_text("\n".join(rows) + "\n")


def _bmtk_copy(strict_config, directory):
    """The network of `strict_config` (write_network's) as bmtk lays out its examples;
    returns the config.json wrapper."""
    strict = strict_config.parent
    network = directory / "network"
    network.mkdir(parents=True)
    for name in ("nodes.h5", "edges.h5", "input_spikes.h5"):
        shutil.copy(strict / name, network / name)
    _node_types_in_a_table(network / "nodes.h5", network / "node_types.csv")
    (directory / "circuit_config.json").write_text(json.dumps({
        "manifest": {"$NETWORK_DIR": "${configdir}/network"},
        "node_sets_file": str(strict / "node_sets.json"),
        "networks": {
            "nodes": [{"nodes_file": "$NETWORK_DIR/nodes.h5",
                       "node_types_file": "$NETWORK_DIR/node_types.csv"}],
            "edges": [{"edges_file": "$NETWORK_DIR/edges.h5"}]}}))
    run = json.loads(strict_config.read_text())["run"]
    del run["random_seed"]
    (directory / "simulation_config.json").write_text(json.dumps({
        "manifest": {"$BASE_DIR": "${configdir}"},
        "run": run,
        "output": {"output_dir": "$BASE_DIR/output", "spikes_sort_order": "time"},
        "inputs": {"stim_spikes": {"input_type": "spikes", "module": "h5",
                                   "input_file": "$BASE_DIR/network/input_spikes.h5",
                                   "node_set": "stim"}}}))
    wrapper = directory / "config.json"
    wrapper.write_text(json.dumps({"network": "./circuit_config.json",
                                   "simulation": "./simulation_config.json"}))
    return wrapper


@pytest.fixture
def strict_and_bmtk(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURODAMUS_CACHE_DIR", str(tmp_path / "cache"))  # the strict copies
    strict = write_network(tmp_path / "strict", example_spec())
    return strict, _bmtk_copy(strict, tmp_path / "bmtk")


def test_a_bmtk_config_is_exported_as_its_strict_original(strict_and_bmtk):
    strict, bmtk = strict_and_bmtk
    with pytest.raises(libsonata.SonataError):  # libsonata alone does not read it
        libsonata.SimulationConfig.from_file(str(bmtk))
    expected, actual = read_network(open_configs(strict)), read_network(open_configs(bmtk))
    for field in dataclasses.fields(expected):
        a, b = getattr(actual, field.name), getattr(expected, field.name)
        if field.name == "params":  # LifParameters: arrays per neuron
            for column in dataclasses.fields(b):
                assert np.array_equal(getattr(a, column.name), getattr(b, column.name)), \
                    column.name
        elif isinstance(b, np.ndarray):
            assert np.array_equal(a, b), field.name
        else:
            assert a == b, field.name
    assert list(actual.population) == ["exc"] * 6 + ["lif"] * 4
    assert actual.mv_per_unit == 15.0


def test_a_bmtk_spike_input_reaches_the_input_channels(strict_and_bmtk):
    strict, bmtk = strict_and_bmtk
    results = []
    for config in (strict, bmtk):
        configs = open_configs(config)
        network = read_network(configs)
        results.append(read_replay_spikes(configs, network.input_population,
                                          network.input_node_id))
    (expected, expected_notes), (actual, notes) = results
    assert notes == expected_notes == []
    assert len(actual) == len(expected) == 5
    for a, b in zip(actual, expected, strict=True):
        assert np.array_equal(a, b)
    assert sum(len(a) for a in actual) == 200  # every replayed spike of example_spec
