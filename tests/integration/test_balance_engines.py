"""WholeCell load balancing and the dry run on circuits of every cell engine, not only hoc
templates: Allen cells (ctdb:/nml:, SWC + JSON/NeuroML biophysics) and point neurons
(nrn:IntFire1) next to hoc cells. On 2 ranks, WholeCell gives the spikes of RoundRobin;
its saved costs follow the engines' kinds; the dry run measures every kind."""

import json

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.cells.point import CELL_COST, SYNAPSE_COST
from neurodamus.reports import read_spikes_by_population
from neurodamus.testing import allen_style
from neurodamus.testing.allen_style import build_allen_style_circuit
from neurodamus.testing.circuit_builder import (
    write_poisson_spikes,
    write_simulation_config,
)
from neurodamus.testing.point_style import (
    Edges,
    Nodes,
    build_point_style_circuit,
    unique_pairs,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

TSTOP = 120.0
RANKS = 2


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One mechanisms cache for the module (built once); WholeCell saves under its parent."""
    return tmp_path_factory.mktemp("cache") / "mechanisms"


def run(config, output, cache, *args):
    result = run_neurodamus([config, "--output-path", output, "--mechanisms-cache", cache,
                             "--no-progress", *args], ranks=RANKS)
    assert_ok(result)
    return result


def spikes(output) -> dict:
    return read_spikes_by_population(output / "out.h5")


def assert_same_spikes(a: dict, b: dict):
    assert a.keys() == b.keys()
    for population in a:
        np.testing.assert_array_equal(a[population][0], b[population][0])
        np.testing.assert_array_equal(a[population][1], b[population][1])


def saved_costs(cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (path,) = (cache.parent / "loadbal").glob(f"wholecell-{RANKS}ranks-*.npz")
    data = np.load(path)
    path.unlink()  # the next circuit's assignment is the only one then
    return data["gids"], data["ranks"], data["costs"]


# -- Allen cells --------------------------------------------------------------------------

# Each of allen_style's four recipes twice (the last has no processing: fewer mechanisms).
ALLEN_NODES = allen_style.NODES * 2


@pytest.fixture(scope="module")
def allen(tmp_path_factory):
    directory = tmp_path_factory.mktemp("allen")
    circuit = build_allen_style_circuit(directory, nodes=ALLEN_NODES)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "All",
                       "amp_start": 0.3, "delay": 10.0, "duration": TSTOP - 20.0}}
    return write_simulation_config(directory, circuit.circuit_config, node_set="All",
                                   inputs=inputs, extra={"run": {
                                       "tstop": TSTOP, "dt": 0.025, "random_seed": 1,
                                       "spike_threshold": -20, "dL": 20.0}})


def test_allen_cells_whole_cell_gives_round_robin_spikes(allen, cache, tmp_path):
    run(allen, tmp_path / "rr", cache)
    whole = run(allen, tmp_path / "wc", cache, "--lb-mode", "WholeCell")
    assert "Saved the WholeCell assignment" in whole.stdout
    reference = spikes(tmp_path / "rr")
    assert reference["allen"][0].size > 10
    assert_same_spikes(reference, spikes(tmp_path / "wc"))
    summary = json.loads((tmp_path / "wc" / "run_summary.json").read_text())
    assert summary["lb_mode"] == "WholeCell" and summary["cells_per_rank"] == [4, 4]
    gids, ranks, costs = saved_costs(cache)
    assert gids.tolist() == list(range(len(ALLEN_NODES)))
    kinds = len(allen_style.NODES)
    # Nodes of one kind cost the same; the unprocessed cell (pas and hh nowhere) least.
    np.testing.assert_array_equal(costs[:kinds], costs[kinds:])
    assert np.all(costs[kinds - 1] < costs[:kinds - 1]) and costs.min() > 0
    assert np.bincount(ranks, weights=costs).tolist() == [costs.sum() / 2] * 2


def test_allen_cells_dry_run(allen, cache, tmp_path):
    run(allen, tmp_path / "dry", cache, "--dry-run")
    estimate = json.loads((tmp_path / "dry" / "dry_run.json").read_text())
    assert estimate["ranks"] == RANKS
    assert sum(r["cells"] for r in estimate["per_rank"]) == len(ALLEN_NODES)
    template, morphology, processing, params = allen_style.NODES[0]
    assert f"{template}/{morphology}/{processing}/{params}" in estimate["per_cell_mb"]
    assert len(estimate["per_cell_mb"]) == len(allen_style.NODES)
    assert estimate["max_rank_mb"] > estimate["baseline_mb"]
    assert not (tmp_path / "dry" / "out.h5").exists()


# -- point neurons next to hoc cells ------------------------------------------------------

SIZES = {"lgn": 8, "exc": 6, "inh": 3, "v1": 2}


@pytest.fixture(scope="module")
def point(tmp_path_factory):
    """IntFire1 populations driven by a replayed virtual one, and two hoc cells under a
    current clamp (measured by a sample, the point neurons at their declared cost)."""
    directory = tmp_path_factory.mktemp("point")
    rng = np.random.default_rng(5)

    def edges(name, source, target, per_target, weight, sign, no_self=False):
        sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target, no_self)
        return Edges(name, source, target, sources, targets, {
            "syn_weight": rng.uniform(weight[0], weight[1], sources.size), "delay": 1.5, "nsyns": 1,
            "model_template": "", "weight_function": "wmax",
            "dynamics_params_file": "exc.json" if sign > 0 else "inh.json"},
            {"sign": float(sign)})

    circuit = build_point_style_circuit(directory, [
        Nodes("lgn", SIZES["lgn"], "virtual"),
        Nodes("exc", SIZES["exc"], "nrn:IntFire1",
              dynamics={"tau": rng.uniform(0.015, 0.03, SIZES["exc"]), "refrac": 0.003}),
        Nodes("inh", SIZES["inh"], "nrn:IntFire1", population_type="point_neuron",
              dynamics={"tau": 0.007, "refrac": 0.002}),
        Nodes("v1", SIZES["v1"], "hoc:NdExcCell"),
    ], [
        edges("lgn__exc", "lgn", "exc", 4, (0.15, 0.3), +1),
        edges("lgn__inh", "lgn", "inh", 3, (0.15, 0.3), +1),
        edges("exc__exc", "exc", "exc", 2, (0.1, 0.2), +1, no_self=True),
        edges("exc__inh", "exc", "inh", 3, (0.1, 0.2), +1),
        edges("inh__exc", "inh", "exc", 2, (0.2, 0.35), -1),
    ], seed=5)
    write_poisson_spikes(directory / "lgn.h5", "lgn", range(SIZES["lgn"]), rate=50.0,
                         tstop=TSTOP - 20.0, seed=5)
    inputs = {"lgn": {"module": "synapse_replay", "input_type": "spikes", "node_set": "All",
                      "spike_file": "lgn.h5", "delay": 0.0, "duration": TSTOP},
              "step": {"module": "linear", "input_type": "current_clamp", "node_set": "v1",
                       "amp_start": 0.5, "delay": 10.0, "duration": TSTOP - 20.0}}
    return write_simulation_config(directory, circuit, tstop=TSTOP, inputs=inputs,
                                   node_set="All")


def in_degrees(config, population: str) -> np.ndarray:
    counts = np.zeros(SIZES[population])
    for path in config.parent.glob(f"edges_*__{population}.h5"):
        name = path.stem.removeprefix("edges_")
        edges = libsonata.EdgeStorage(str(path)).open_population(name)
        counts += np.bincount(edges.target_nodes(edges.select_all()), minlength=counts.size)
    return counts


def test_point_neurons_whole_cell_gives_round_robin_spikes(point, cache, tmp_path):
    run(point, tmp_path / "rr", cache)
    run(point, tmp_path / "wc", cache, "--lb-mode", "WholeCell")
    reference = spikes(tmp_path / "rr")
    assert reference["exc"][0].size > 10 and reference["v1"][0].size > 0
    assert_same_spikes(reference, spikes(tmp_path / "wc"))
    gids, ranks, costs = saved_costs(cache)
    offsets = {"exc": SIZES["lgn"], "inh": SIZES["lgn"] + SIZES["exc"]}
    for population, offset in offsets.items():
        mine = costs[(gids >= offset) & (gids < offset + SIZES[population])]
        np.testing.assert_allclose(mine, CELL_COST + SYNAPSE_COST * in_degrees(point, population))
    hoc = costs[gids >= offsets["inh"] + SIZES["inh"]]
    assert hoc[0] == hoc[1] and hoc[0] > 100 * costs[gids < offsets["inh"] + SIZES["inh"]].max()
    assert ranks[gids >= offsets["inh"] + SIZES["inh"]].tolist() == [0, 1]  # one each


def test_point_neurons_dry_run(point, cache, tmp_path):
    run(point, tmp_path / "dry", cache, "--dry-run")
    estimate = json.loads((tmp_path / "dry" / "dry_run.json").read_text())
    assert sum(r["cells"] for r in estimate["per_rank"]) == SIZES["exc"] + SIZES["inh"] + SIZES["v1"]
    assert {"IntFire1", "NdExcCell/v1_morph"} <= set(estimate["per_cell_mb"])
    assert estimate["per_synapse_kb"] > 0
    assert not (tmp_path / "dry" / "out.h5").exists()
