"""The bmtk dialect: a circuit written the way bmtk and the Allen Institute examples write
it (type tables, two groups, no populations, config wrapper, ${configdir}, no random_seed,
h5 spike inputs) gives exactly the spikes of the same circuit written strictly; every
leniency is said once; bad type tables give one line."""

import json
from pathlib import Path

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.bmtk_layout import rewrite_in_bmtk_layout
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_poisson_spikes,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

SPEC = CircuitSpec(
    populations=[PopulationSpec("exc", 6, "exc", threshold_current=0.25),
                 PopulationSpec("inh", 3, "inh", threshold_current=0.1),
                 PopulationSpec("thalamus", 8, "virtual")],
    edges=[EdgeSpec("exc", "exc", per_target=4, conductance=1.0),
           EdgeSpec("exc", "inh", per_target=4, conductance=0.5),
           EdgeSpec("inh", "exc", per_target=3, conductance=0.5),
           EdgeSpec("thalamus", "exc", per_target=4, conductance=2.0)],
    seed=11)
TSTOP = 150.0
LENIENCIES = ("simulation: bmtk's config wrapper", "manifest: ${configdir}",
              "run.random_seed: missing", "output.spikes_sort_order: 'time'",
              "networks.*.node_types_file", "networks.*.edge_types_file",
              "networks.*.populations: missing", "inputs.thalamic.module: bmtk's 'h5'",
              "reports.soma_v.module: bmtk's membrane_report")


@pytest.fixture(scope="module")
def circuits(tmp_path_factory):
    """(strict simulation config, bmtk-layout config.json) of one circuit."""
    base = tmp_path_factory.mktemp("bmtk_dialect")
    circuit = build_circuit(base / "strict", SPEC)
    write_poisson_spikes(base / "strict" / "thalamus.h5", "thalamus", range(8), 40.0, TSTOP, seed=2)
    inputs = {
        "step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                 "amp_start": 0.35, "delay": 10.0, "duration": 120.0},
        "thalamic": {"module": "synapse_replay", "input_type": "spikes", "node_set": "All",
                     "spike_file": "thalamus.h5", "delay": 0.0, "duration": TSTOP},
    }
    reports = {"soma_v": {"type": "compartment", "cells": "exc", "variable_name": "v",
                          "sections": "soma", "compartments": "center", "start_time": 0.0,
                          "end_time": TSTOP, "dt": 0.025}}
    strict = write_simulation_config(base / "strict", circuit, tstop=TSTOP, inputs=inputs,
                                     reports=reports, random_seed=0)
    wrapper = rewrite_in_bmtk_layout(circuit, strict, base / "bmtk", virtual={"thalamus"})
    return strict, wrapper


@pytest.fixture(scope="module")
def runs(circuits, tmp_path_factory):
    strict, wrapper = circuits
    out = tmp_path_factory.mktemp("bmtk_runs")
    cache = out / "cache"
    env_args = ["--no-progress", "--mechanisms-cache", cache / "mechanisms"]
    results = {}
    for name, config, ranks in (("strict", strict, 1), ("bmtk_1", wrapper, 1),
                                ("bmtk_2", wrapper, 2)):
        result = run_neurodamus([config, "--output-path", out / name, *env_args], ranks=ranks)
        assert_ok(result)
        results[name] = (out / name, result)
    return results


def _spikes(directory: Path, name: str):
    return read_spikes_by_population(directory / name)


def test_bmtk_layout_gives_the_strict_circuits_spikes(runs):
    strict = _spikes(runs["strict"][0], "out.h5")
    assert sum(t.size for t, _ in strict.values()) > 5
    for name in ("bmtk_1", "bmtk_2"):
        lenient = _spikes(runs[name][0], "out.h5")
        assert sorted(lenient) == sorted(strict)
        for population, (times, ids) in strict.items():
            np.testing.assert_array_equal(lenient[population][1], ids)
            np.testing.assert_array_equal(lenient[population][0], times)  # exactly


def test_membrane_report_is_the_strict_soma_report(runs):
    strict = libsonata.ElementReportReader(str(runs["strict"][0] / "soma_v.h5"))["exc"]
    lenient = libsonata.ElementReportReader(str(runs["bmtk_2"][0] / "soma_v.h5"))["exc"]
    assert lenient.get_node_ids() == strict.get_node_ids() == list(range(6))
    assert lenient.times == strict.times
    np.testing.assert_array_equal(np.asarray(lenient.get().data), np.asarray(strict.get().data))


def test_every_leniency_is_said_once_naming_its_key(runs):
    _, result = runs["bmtk_2"]
    said = [line for line in (result.stdout + result.stderr).splitlines()
            if "read leniently" in line]
    for leniency in LENIENCIES:
        matching = [line for line in said if leniency in line]
        assert len(matching) == 1, (leniency, said)


def test_strict_copy_is_read_by_libsonata_as_one_group(runs):
    """The copy the run used: single group, the type tables' columns merged, HDF5 wins."""
    summary = json.loads((runs["bmtk_1"][0] / "run_summary.json").read_text())
    assert summary["cells"] == 9
    cache = runs["bmtk_1"][0].parent / "cache" / "circuits"
    (copy,) = [d for d in cache.iterdir() if d.is_dir() and not d.name.endswith(".partial")]
    config = libsonata.CircuitConfig.from_file(str(copy / "circuit_config.json"))
    assert sorted(config.node_populations) == ["exc", "inh", "thalamus"]
    assert config.node_population_properties("thalamus").type == "virtual"
    exc = config.node_population("exc")
    assert {"model_template", "model_type", "morphology"} <= exc.attribute_names
    edges = config.edge_population("exc__exc__chemical")
    delays = edges.get_attribute("delay", edges.select_all())
    assert np.all(delays < 99.0)  # the table's 99 is overridden by every edge's own delay
    assert set(edges.get_attribute("syn_type_id", edges.select_all())) == {120}


def _bad_table(circuits, tmp_path, edit):
    import shutil

    _, wrapper = circuits
    copy = tmp_path / "bmtk"
    shutil.copytree(wrapper.parent, copy)
    table = copy / "network" / "edge_types_0.csv"
    table.write_text(edit(table.read_text()))
    return copy / "config.json", table


def test_type_table_with_text_in_a_number_column_is_one_line(circuits, tmp_path):
    config, table = _bad_table(circuits, tmp_path,
                               lambda text: text.replace("99.0", "ninety", 1))
    result = run_neurodamus([config, "--output-path", tmp_path / "out", "--mechanisms-cache",
                             tmp_path / "cache" / "mechanisms"], ranks=2)
    assert_one_error(result, str(table), "delay", "'ninety'")


def test_type_table_without_its_id_column_is_one_line(circuits, tmp_path):
    config, table = _bad_table(circuits, tmp_path,
                               lambda text: text.replace("edge_type_id", "edge_kind", 1))
    result = run_neurodamus([config, "--output-path", tmp_path / "out", "--mechanisms-cache",
                             tmp_path / "cache" / "mechanisms"], ranks=2)
    assert_one_error(result, str(table), "edge_type_id")


def test_simulation_without_network_names_the_wrapper(circuits, tmp_path):
    _, wrapper = circuits
    simulation = json.loads((wrapper.parent / "simulation_config.json").read_text())
    config = tmp_path / "simulation_config.json"
    config.write_text(json.dumps(simulation))
    result = run_neurodamus([config, "--output-path", tmp_path / "out"], ranks=1)
    assert_one_error(result, str(config), "'network'", "config.json")


def test_inputs_keep_bmtk_modules_the_driver_implements(circuits, tmp_path):
    """libsonata is shown a stand-in for IClamp; the driver reads the IClamp itself."""
    from neurodamus.config import load_settings

    _, wrapper = circuits
    settings = load_settings(wrapper, cache_root=tmp_path / "cache")
    modules = {i.name: (i.module, i.node_set, i.parameters) for i in settings.inputs}
    assert modules["step"] == ("IClamp", "exc", {"amp": 0.35})
    assert modules["thalamic"][:2] == ("synapse_replay", "neurodamus_all_nodes")
    assert modules["thalamic"][2]["source"] == "thalamus"


def test_replay_of_recorded_recurrent_spikes_gives_the_full_runs_spikes(circuits, runs,
                                                                        tmp_path):
    """bmtk's `replay`: the exc -> exc edges left out of the network and driven instead by
    the full run's exc spikes through the same edges reproduce the full run exactly."""
    import shutil

    _, wrapper = circuits
    copy = tmp_path / "bmtk"
    shutil.copytree(wrapper.parent, copy)
    circuit = json.loads((copy / "circuit_config.json").read_text())
    recurrent = next(e for e in circuit["networks"]["edges"] if _population_of(copy, e)
                     == "exc__exc__chemical")
    circuit["networks"]["edges"].remove(recurrent)
    (copy / "circuit_config.json").write_text(json.dumps(circuit))
    simulation = json.loads((copy / "simulation_config.json").read_text())
    simulation["inputs"]["recurrent"] = {
        "input_type": "replay_spikes", "module": "replay",
        "spikes_file": str(runs["bmtk_1"][0] / "out.h5"),
        "source_node_set": {"population": "exc"},
        "edges": {k: v.replace("$NETWORK_DIR", str(copy / "network"))
                  for k, v in recurrent.items()}}
    (copy / "simulation_config.json").write_text(json.dumps(simulation))
    result = run_neurodamus([copy / "config.json", "--output-path", tmp_path / "out",
                             "--no-progress", "--mechanisms-cache",
                             runs["bmtk_1"][0].parent / "cache" / "mechanisms"], ranks=2)
    assert_ok(result)
    full = _spikes(runs["bmtk_1"][0], "out.h5")
    replayed = _spikes(tmp_path / "out", "out.h5")
    for population in ("exc", "inh"):
        np.testing.assert_array_equal(replayed[population][1], full[population][1])
        np.testing.assert_array_equal(replayed[population][0], full[population][0])
    assert "bmtk's replay read as synapse_replay" in result.stdout + result.stderr
    # control: without the replay the recurrent drive is missing and exc fires otherwise
    del simulation["inputs"]["recurrent"]
    (copy / "simulation_config.json").write_text(json.dumps(simulation))
    assert_ok(run_neurodamus([copy / "config.json", "--output-path", tmp_path / "control",
                              "--no-progress", "--mechanisms-cache",
                              runs["bmtk_1"][0].parent / "cache" / "mechanisms"], ranks=1))
    control = _spikes(tmp_path / "control", "out.h5")
    assert not np.array_equal(control["exc"][0], full["exc"][0])


def _population_of(directory: Path, entry: dict) -> str:
    import h5py

    path = Path(entry["edges_file"].replace("$NETWORK_DIR", str(directory / "network")))
    with h5py.File(path, "r") as f:
        return next(iter(f["edges"]))
