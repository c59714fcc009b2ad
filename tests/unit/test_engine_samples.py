"""What load balancing and the dry run ask of every cell engine, in-process: a kind per node
read in bulk, one sample of a kind built off any gid and measured by NEURON's LoadBalance,
then destroyed without a trace; point neurons declare their cost instead."""

from pathlib import Path

import libsonata
import numpy as np
import pytest

from neurodamus.cells.engines import FixedCost, engine_groups
from neurodamus.circuit.nodes import NodePopulation
from neurodamus.config.settings import NodePopulationSettings, RunSettings
from neurodamus.testing import allen_style
from neurodamus.testing.allen_style import build_allen_style_circuit
from neurodamus.testing.point_style import Nodes, build_point_style_circuit


@pytest.fixture(scope="module")
def h():
    from neuron import h

    h.load_file("stdrun.hoc")
    h.load_file("loadbal.hoc")
    return h


def population(name, type_, nodes_file, morphologies_dir, models_dir) -> NodePopulation:
    storage = libsonata.NodeStorage(str(nodes_file)).open_population(name)
    settings = NodePopulationSettings(
        name=name, type=type_, nodes_file=Path(nodes_file), morphologies_dir=morphologies_dir,
        alternate_morphologies={}, models_dir=models_dir, mechanisms_dir=None)
    return NodePopulation(settings, 0, storage.size, storage)


@pytest.fixture(scope="module")
def populations(tmp_path_factory):
    allen = build_allen_style_circuit(tmp_path_factory.mktemp("allen"))
    directory = tmp_path_factory.mktemp("point")
    build_point_style_circuit(directory, [
        Nodes("exc", 3, "nrn:IntFire1", dynamics={"tau": 0.02, "refrac": 0.003}),
        Nodes("v1", 2, "hoc:NdExcCell")], [])
    nodes = directory / "nodes.h5"
    return {
        "allen": population("allen", "biophysical", allen.nodes_file, allen.morphologies_dir,
                            allen.models_dir),
        "exc": population("exc", "point_process", nodes, None, None),
        "v1": population("v1", "biophysical", nodes, directory / "morphologies",
                         directory / "emodels"),
    }


def engine_and_kinds(population):
    node_ids = np.arange(population.size)
    ((engine, model_type, positions),) = engine_groups(population, node_ids)
    assert model_type is None and positions.tolist() == node_ids.tolist()
    return engine, engine.kinds(population, node_ids)


def run_settings(dl=None) -> RunSettings:
    return RunSettings(tstop=10.0, dt=0.025, random_seed=1, dl=dl, spike_threshold=-20.0)


def test_kinds_are_what_decides_the_cell(populations):
    _, allen = engine_and_kinds(populations["allen"])
    assert allen == list(allen_style.NODES)
    _, hoc = engine_and_kinds(populations["v1"])
    assert hoc == [("NdExcCell", "v1_morph")] * 2
    _, point = engine_and_kinds(populations["exc"])
    assert point == ["IntFire1"] * 3


@pytest.mark.parametrize("name", ["allen", "v1"])
def test_a_sample_is_measured_off_any_gid_and_destroyed_without_a_trace(h, populations, name):
    population = populations[name]
    engine, kinds = engine_and_kinds(population)
    assert engine.fixed_cost is None
    pc = h.ParallelContext()
    balance = h.LoadBalance()
    sections = len(list(h.allsec()))
    for node_id, kind in enumerate(kinds):
        cell = engine.sample(population, kind, node_id, h, pc, run_settings())
        assert len(list(h.allsec())) > sections
        assert balance.cell_complexity(cell) > 0
        assert not any(pc.gid_exists(gid) for gid in range(population.size))
        engine.destroy(h, cell)
        del cell
        assert len(list(h.allsec())) == sections


def test_allen_samples_are_segmented_by_run_dl(h, populations):
    population = populations["allen"]
    engine, kinds = engine_and_kinds(population)
    pc, balance = h.ParallelContext(), h.LoadBalance()
    complexity = {}
    for dl in (None, 5.0):
        cell = engine.sample(population, kinds[0], 0, h, pc, run_settings(dl))
        complexity[dl] = balance.cell_complexity(cell)
        engine.destroy(h, cell)
    assert complexity[5.0] > 2 * complexity[None]


def test_point_neurons_declare_their_cost_and_sample_without_sections(h, populations):
    population = populations["exc"]
    engine, kinds = engine_and_kinds(population)
    assert isinstance(engine.fixed_cost, FixedCost)
    assert engine.fixed_cost.cell > 0 and engine.fixed_cost.per_synapse < engine.fixed_cost.cell
    sections = len(list(h.allsec()))
    cell = engine.sample(population, kinds[0], 0, h, h.ParallelContext(), run_settings())
    assert cell.pp.hname().startswith("IntFire1") and len(list(h.allsec())) == sections
    assert engine.afferent(h, cell, 0) == cell.pp  # NetCons go onto the artificial cell
    engine.destroy(h, cell)


def test_nodes_of_one_other_model_type_keep_their_own(tmp_path):
    """A rank may hold only the point neurons of a mixed bmtk population (bio_intfire_ring
    on 2 ranks): their own model_type picks the engine, not the population's type."""
    import h5py

    build_point_style_circuit(tmp_path, [
        Nodes("mixed", 3, "nrn:IntFire1", dynamics={"tau": 0.02, "refrac": 0.003})], [])
    with h5py.File(tmp_path / "nodes.h5", "a") as f:
        group = f["nodes/mixed/0"]
        if "model_type" in group:
            del group["model_type"]
        group.create_dataset("model_type", data=["point_neuron"] * 3,
                             dtype=h5py.string_dtype())
    mixed = population("mixed", "biophysical", tmp_path / "nodes.h5", None, None)
    ((engine, model_type, positions),) = engine_groups(mixed, np.arange(3))
    assert model_type == "point_neuron" and positions.tolist() == [0, 1, 2]
    assert isinstance(engine.fixed_cost, FixedCost)
