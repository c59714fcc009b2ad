"""Reading bmtk's files: type tables, multi-group populations, CSV spikes, configs without
edges or populations."""

import json
from typing import Any

import h5py
import libsonata
import numpy as np
import pytest

from neurodamus.config import load_settings
from neurodamus.dialects.bmtk_inputs import _csv_spikes_as_sonata
from neurodamus.dialects.strict_copy import copy_edges, copy_nodes
from neurodamus.dialects.type_tables import read_type_table
from neurodamus.errors import ConfigError


def test_type_table_columns_are_typed_by_their_values(tmp_path):
    table = tmp_path / "types.csv"
    table.write_text("node_type_id model_type tau count target_sections\n"
                     "100 point_process 0.5 3 \"['basal', 'apical']\"\n"
                     "101 virtual NONE 4 NONE\n")
    read = read_type_table(table, "node_type_id")
    assert read.type_ids.tolist() == [100, 101]
    assert read.columns["count"].dtype == np.int64
    assert read.columns["tau"][0] == 0.5 and np.isnan(read.columns["tau"][1])
    assert read.columns["target_sections"].tolist() == ["['basal', 'apical']", ""]
    assert read.columns["model_type"].tolist() == ["point_process", "virtual"]


@pytest.mark.parametrize("text, expected", [
    ("edge_type_id delay\n100 abc\n", "column 'delay' must hold numbers, found 'abc'"),
    ("edge_kind delay\n100 1.0\n", "no 'edge_type_id' column"),
    ("edge_type_id delay\n100 1.0\n100 2.0\n", "type id 100 appears twice"),
    ("edge_type_id delay\n100 1.0 7\n", "line 2 has 3 values for 2 columns"),
    ("", "empty type table"),
])
def test_bad_type_tables_name_file_and_column(tmp_path, text, expected):
    table = tmp_path / "edge_types.csv"
    table.write_text(text)
    with pytest.raises(ConfigError) as error:
        read_type_table(table, "edge_type_id")
    assert expected in str(error.value) and str(table) in str(error.value)


def _two_group_nodes(path):
    with h5py.File(path, "w") as f:
        population = f.create_group("nodes/cells")
        population["node_type_id"] = np.array([100, 101, 100, 101])
        population["node_group_id"] = np.array([0, 1, 0, 1], np.uint32)
        population["node_group_index"] = np.array([0, 0, 1, 1], np.uint64)
        population["0/x"] = np.array([1.0, 3.0])
        population["0/model_name"] = np.array([b"a", b"b"], dtype=object)
        population["1/x"] = np.array([2.0, 4.0])
        population["1/dynamics_params/tau"] = np.array([0.03, 0.04])


def test_two_groups_become_one_with_the_table_under_the_hdf5(tmp_path):
    nodes, table_file = tmp_path / "nodes.h5", tmp_path / "types.csv"
    _two_group_nodes(nodes)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "fire.json").write_text(json.dumps({"tau": 0.02, "refrac": 0.003,
                                                               "type": "NEURON_IntFire1"}))
    table_file.write_text("node_type_id model_type model_template dynamics_params x\n"
                          "100 biophysical hoc:Cell NONE 9.0\n"
                          "101 point_process nrn:IntFire1 fire.json 9.0\n")
    table = read_type_table(table_file, "node_type_id")
    out = tmp_path / "strict.h5"
    (summary,) = copy_nodes(nodes, table, out, {"point_process": tmp_path / "models"})
    assert summary.model_types == ("biophysical", "point_process")
    population = libsonata.NodeStorage(str(out)).open_population("cells")
    everyone = population.select_all()
    np.testing.assert_array_equal(population.get_attribute("x", everyone), [1, 2, 3, 4])
    assert list(population.get_attribute("model_template", everyone)) == [
        "hoc:Cell", "nrn:IntFire1", "hoc:Cell", "nrn:IntFire1"]
    assert list(population.get_attribute("model_name", everyone)) == ["a", "", "b", ""]
    # the HDF5 tau of group 1 wins over the JSON's; refrac comes from the JSON
    np.testing.assert_allclose(population.get_dynamics_attribute("tau", everyone)[[1, 3]],
                               [0.03, 0.04])
    refrac = population.get_dynamics_attribute("refrac", everyone)
    assert np.isnan(refrac[[0, 2]]).all() and np.allclose(refrac[[1, 3]], 0.003)


def test_edges_without_indices_get_them_and_sec_id_is_renamed(tmp_path):
    edges = tmp_path / "edges.h5"
    with h5py.File(edges, "w") as f:
        population = f.create_group("edges/a_to_b")
        population["source_node_id"] = np.array([0, 1, 0], np.uint64)
        population["target_node_id"] = np.array([1, 1, 0], np.uint64)
        population["source_node_id"].attrs["node_population"] = "a"
        population["target_node_id"].attrs["node_population"] = "b"
        population["edge_type_id"] = np.array([5, 5, 5])
        population["edge_group_id"] = np.zeros(3, np.uint16)
        population["edge_group_index"] = np.arange(3, dtype=np.uint32)
        population["0/sec_id"] = np.array([1, 2, 3])
        population["0/sec_x"] = np.array([0.5, 0.25, 0.75])
    table_file = tmp_path / "edge_types.csv"
    table_file.write_text("edge_type_id syn_weight delay model_template\n5 0.1 2.0 Exp2Syn\n")
    out = tmp_path / "strict_edges.h5"
    copy_edges(edges, read_type_table(table_file, "edge_type_id"), out, None, {"a": 2, "b": 2})
    population = libsonata.EdgeStorage(str(out)).open_population("a_to_b")
    onto_1 = population.afferent_edges([1])
    assert onto_1.flatten().tolist() == [0, 1]
    assert population.get_attribute("afferent_section_id", onto_1).tolist() == [1, 2]
    assert population.get_attribute("delay", onto_1).tolist() == [2.0, 2.0]


def test_csv_spikes_become_a_sonata_file(tmp_path):
    spikes = tmp_path / "spikes.csv"
    spikes.write_text("timestamps population node_ids\n1.5 lgn 3\n2.5 lgn 0\n0.5 tw 1\n")
    out = _csv_spikes_as_sonata(spikes, tmp_path / "cache", True, "inputs.x.input_file")
    reader = libsonata.SpikeReader(str(out))
    assert sorted(reader.get_population_names()) == ["lgn", "tw"]
    assert sorted(reader["lgn"].get()) == [(0, 2.5), (3, 1.5)]


def test_circuit_without_edges_or_populations(tmp_path):
    nodes = tmp_path / "nodes.h5"
    _two_group_nodes(nodes)
    (tmp_path / "types.csv").write_text("node_type_id model_type\n100 virtual\n101 virtual\n")
    (tmp_path / "circuit.json").write_text(json.dumps({"networks": {"nodes": [
        {"nodes_file": "${configdir}/nodes.h5", "node_types_file": "./types.csv"}]}}))
    (tmp_path / "sim.json").write_text(json.dumps({
        "network": "circuit.json", "run": {"tstop": 10.0, "dt": 0.1},
        "output": {"output_dir": "out"}}))
    settings = load_settings(tmp_path / "sim.json", cache_root=tmp_path / "cache")
    assert [p.name for p in settings.circuit.node_populations] == ["cells"]
    assert settings.circuit.node_populations[0].type == "virtual"
    assert settings.circuit.edge_populations == ()
    assert any("networks.edges: missing" in line for line in settings.leniencies)
    assert settings.run.random_seed == 0


def test_null_type_tables_leave_a_strict_circuit_to_libsonata(tmp_path):
    """BBP circuit configs write "node_types_file": null: not a reason for a strict copy."""
    from neurodamus.dialects.bmtk_circuit import circuit_needs_copy

    entry: dict[str, Any] = {"nodes_file": "nodes.h5", "node_types_file": None,
                             "populations": {"a": {}}}
    edges: dict[str, Any] = {"edges_file": "e.h5", "edge_types_file": None,
                             "populations": {"e": {}}}
    assert not circuit_needs_copy({"networks": {"nodes": [entry], "edges": [edges]}})
    assert circuit_needs_copy({"networks": {"nodes": [{**entry, "node_types_file": "t.csv"}],
                                            "edges": [edges]}})


def test_implicit_single_group_is_copied(tmp_path):
    nodes = tmp_path / "nodes.h5"
    with h5py.File(nodes, "w") as f:
        f["nodes/cells/node_type_id"] = np.array([1, 1, 1])
        f["nodes/cells/0/x"] = np.array([1.0, 2.0, 3.0])
    out = tmp_path / "strict.h5"
    copy_nodes(nodes, None, out, {})
    population = libsonata.NodeStorage(str(out)).open_population("cells")
    assert population.get_attribute("x", population.select_all()).tolist() == [1.0, 2.0, 3.0]


def test_positions_become_x_y_z(tmp_path):
    """bmtk's (N, 3) `positions` dataset: the x, y, z columns of the strict copy."""
    nodes = tmp_path / "nodes.h5"
    positions = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with h5py.File(nodes, "w") as f:
        f["nodes/cells/node_type_id"] = np.array([1, 1])
        f["nodes/cells/node_group_id"] = np.array([0, 0])
        f["nodes/cells/node_group_index"] = np.array([0, 1])
        f["nodes/cells/0/positions"] = positions
    out = tmp_path / "strict.h5"
    copy_nodes(nodes, None, out, {})
    population = libsonata.NodeStorage(str(out)).open_population("cells")
    for i, axis in enumerate("xyz"):
        assert population.get_attribute(axis, population.select_all()).tolist() == \
            positions[:, i].tolist()


def test_manifest_paths_are_absolute_and_other_values_text(tmp_path):
    """bmtk substitutes manifest values as text: "35" stays 35 inside a file name."""
    from neurodamus.dialects.bmtk_json import expand, manifest_values

    raw = {"manifest": {"$BASE_DIR": ".", "$SWEEP": "35", "$KIND": "fullaxon",
                        "$NETWORK_DIR": "$BASE_DIR/network"},
           "file": "$NETWORK_DIR/bio_${KIND}_nodes_${SWEEP}.h5"}
    values = manifest_values(raw, tmp_path, tmp_path / "config.json")
    assert values["SWEEP"] == "35" and values["BASE_DIR"] == str(tmp_path.resolve())
    assert expand(raw["file"], values, tmp_path) == \
        f"{tmp_path.resolve()}/network/bio_fullaxon_nodes_35.h5"
