"""connectivity/ in-process, on a generated circuit of three cells: every afferent edge of a
local cell becomes one synapse carrying that edge's values, its NetCon links the edge's source
gid to the synapse with the edge's delay and conductance, connection overrides change the
synapses they match and no other, and the synapse model is ours when BBP's mechanisms are not
loaded. (The mpiexec tests run the same code across ranks.)"""

import math

import libsonata
import numpy as np
import pytest

from neurodamus.cells.engines import engine_for
from neurodamus.circuit import open_circuit
from neurodamus.config import load_settings
from neurodamus.connectivity import connect_synapses, synapse_models_by_population


def _build(config, h):
    """(settings, circuit, cells, connections) of the config, every cell on this process."""
    settings = load_settings(config)
    circuit = open_circuit(settings, libsonata.NodeSets(settings.node_sets_json))
    pc = h.ParallelContext()
    pc.gid_clear()
    cells = []
    for population in circuit.populations.values():
        ids = np.arange(population.size)
        templates = population.attributes(ids, ["model_template"])["model_template"]
        engine = engine_for(population, templates)
        local = engine.check(population, ids, h, pc)
        cells += engine.build(local, h, pc, settings.run, settings.conditions)
    return settings, circuit, cells, connect_synapses(settings, circuit, cells, h, pc)


@pytest.fixture
def built(small_circuit, h):
    """A three-cell circuit built and connected; the gids are cleared from the
    ParallelContext afterwards (other in-process tests build cells too)."""
    yield _build(small_circuit(n_exc=2, n_inh=1, tstop=10.0), h)
    h.ParallelContext().gid_clear()


def _edges(edge_settings):
    population = libsonata.EdgeStorage(str(edge_settings.edges_file)).open_population(
        edge_settings.name)
    selection = libsonata.Selection([(0, population.size)])
    columns = {name: np.asarray(population.get_attribute(name, selection))
               for name in ("conductance", "delay", "syn_type_id")}
    columns["source"] = np.asarray(population.source_nodes(selection))
    columns["target"] = np.asarray(population.target_nodes(selection))
    return columns


def test_every_edge_is_one_synapse_with_its_values(built):
    settings, circuit, cells, connections = built
    by_gid = {cell.gid: cell for cell in cells}
    total = 0
    for edge_settings in settings.circuit.edge_populations:
        edges = _edges(edge_settings)
        source = circuit.populations[edge_settings.source]
        target = circuit.populations[edge_settings.target]
        total += edges["target"].size
        for node_id in range(target.size):
            cell = by_gid[target.offset + node_id]
            mine = [s for s in cell.synapses if s.edge_population == edge_settings.name]
            expected = np.flatnonzero(edges["target"] == node_id)
            assert sorted(s.edge_id for s in mine) == expected.tolist()
            for synapse in mine:
                k = synapse.edge_id
                assert synapse.source_gid == source.offset + int(edges["source"][k])
                assert synapse.netcon.srcgid() == synapse.source_gid
                # the delay in whole steps, as the reference reads it (connectivity/delays.py)
                steps = math.floor(float(edges["delay"][k]) / settings.run.dt + 1e-5)
                assert synapse.netcon.delay == pytest.approx(steps * settings.run.dt)
                assert synapse.weight == pytest.approx(edges["conductance"][k])
                assert synapse.inhibitory == bool(edges["syn_type_id"][k] < 100)
    assert total > 0 and connections.synapses == total


def test_our_synapse_model_without_bbp_mechanisms(built, h):
    settings, _, _, _ = built
    models = synapse_models_by_population(settings, h)
    assert set(models) == {e.name for e in settings.circuit.edge_populations}
    assert all("NdTm" in model for model in models.values()), models


def test_overrides_scale_weights_and_set_delays_of_the_synapses_they_match(small_circuit, h):
    overrides = [{"name": "half", "source": "exc", "target": "exc", "weight": 0.5},
                 {"name": "slow", "source": "inh", "target": "exc", "synapse_delay_override": 3.0}]
    try:
        _, _, cells, _ = _build(small_circuit(
            n_exc=2, n_inh=1, tstop=10.0, extra={"connection_overrides": overrides}), h)
        seen = set()
        for cell in cells:
            for synapse in cell.synapses:
                pair = (synapse.source_population, cell.population)
                seen.add(pair)
                scale = 0.5 if pair == ("exc", "exc") else 1.0
                assert synapse.netcon.weight[0] == pytest.approx(scale * synapse.weight)
                if pair == ("inh", "exc"):
                    assert synapse.netcon.delay == 3.0
        assert {("exc", "exc"), ("inh", "exc"), ("exc", "inh")} <= seen
    finally:
        h.ParallelContext().gid_clear()
