"""Point neurons in the Allen/bmtk convention (IntFire1 with dynamics in seconds, edges with
syn_weight, sign, nsyns and delay): a network driven by a replayed virtual population
gives exactly the spikes of the same network built by hand in plain NEURON, on 1 and 2
ranks; bad data and inputs a point neuron cannot take are one error line each."""

import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_mpi_script, run_neurodamus

from neurodamus.reports import read_spikes_by_population
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

REFERENCE = Path(__file__).parent / "scripts" / "intfire_reference.py"
TSTOP = 300.0
SIZES = {"lgn": 10, "exc": 8, "inh": 4}


def _edges(rng, name, source, target, per_target, weight, sign, no_self=False, **extra):
    sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target, no_self)
    n = sources.size
    attributes = {"syn_weight": rng.uniform(*weight, n), "delay": rng.uniform(1.0, 3.0, n),
                  "nsyns": rng.integers(1, 4, n), "model_template": "",
                  "weight_function": "wmax",
                  "dynamics_params_file": "instantaneousExc.json" if sign > 0
                  else "instantaneousInh.json", **extra}
    return Edges(name, source, target, sources, targets, attributes, {"sign": float(sign)})


def build_network(directory, seed=4, replace_nodes=None, replace_edges=None) -> Path:
    """The point network and its simulation config (replay of lgn onto exc and inh)."""
    rng = np.random.default_rng(seed)
    nodes = [
        Nodes("lgn", SIZES["lgn"], "virtual"),
        Nodes("exc", SIZES["exc"], "nrn:IntFire1",
              dynamics={"tau": rng.uniform(0.015, 0.03, SIZES["exc"]), "refrac": 0.003}),
        Nodes("inh", SIZES["inh"], "nrn:IntFire1", population_type="point_neuron",
              dynamics={"tau": 0.007, "refrac": 0.002}),
    ]
    edges = [
        _edges(rng, "lgn__exc", "lgn", "exc", 4, (0.12, 0.25), +1),
        _edges(rng, "lgn__inh", "lgn", "inh", 3, (0.15, 0.3), +1),
        _edges(rng, "exc__exc", "exc", "exc", 2, (0.1, 0.2), +1, no_self=True),
        _edges(rng, "exc__inh", "exc", "inh", 3, (0.1, 0.2), +1),
        _edges(rng, "inh__exc", "inh", "exc", 2, (0.2, 0.35), -1),
    ]
    nodes = [replace_nodes(n) if replace_nodes else n for n in nodes]
    edges = [replace_edges(e) if replace_edges else e for e in edges]
    circuit = build_point_style_circuit(directory, nodes, edges, seed=seed)
    write_poisson_spikes(directory / "lgn_spikes.h5", "lgn", range(SIZES["lgn"]), rate=40.0,
                         tstop=TSTOP - 20.0, seed=seed)
    inputs = {"lgn": {"module": "synapse_replay", "input_type": "spikes", "node_set": "All",
                      "spike_file": "lgn_spikes.h5", "delay": 0.0, "duration": TSTOP}}
    return write_simulation_config(directory, circuit, tstop=TSTOP, inputs=inputs, node_set="All")


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    return build_network(tmp_path_factory.mktemp("intfire"))


def _sorted(times, ids, until: float = TSTOP - 0.5):
    keep = times < until
    times, ids = np.asarray(times)[keep], np.asarray(ids, np.int64)[keep]
    order = np.lexsort((ids, times))
    return times[order], ids[order]


def test_intfire_network_equals_plain_neuron_on_1_and_2_ranks(network, tmp_path):
    directory = network.parent
    reference_file = tmp_path / "reference.npz"
    assert_ok(run_mpi_script(REFERENCE, [directory, directory / "lgn_spikes.h5", TSTOP,
                                         reference_file], ranks=1))
    reference = np.load(reference_file)
    expected = {p: _sorted(reference[f"{p}_times"], reference[f"{p}_ids"]) for p in ("exc", "inh")}
    assert sum(t.size for t, _ in expected.values()) > 40
    assert all(t.size > 5 for t, _ in expected.values())
    for ranks in (1, 2):
        out = tmp_path / f"ranks{ranks}"
        assert_ok(run_neurodamus([network, "--output-path", out, "--no-progress"], ranks=ranks))
        spikes = read_spikes_by_population(out / "out.h5")
        for population, (times, ids) in expected.items():
            got_times, got_ids = _sorted(*spikes[population])
            np.testing.assert_array_equal(got_times, times)  # exactly
            np.testing.assert_array_equal(got_ids, ids)
        summary = json.loads((out / "run_summary.json").read_text())
        assert summary["synapses"] == 8 * 4 + 4 * 3 + 8 * 2 + 4 * 3 + 8 * 2  # one NetCon per edge
        assert set(summary["cell_engines"]) == {"exc", "inh"}
        assert all(m.startswith("NetCon onto point neuron")
                   for m in summary["synapse_models"].values())


def test_inhibitory_sign_and_nsyns_matter(network, tmp_path):
    """The reference's rule is not vacuous: dropping sign and nsyns changes the spikes."""
    directory = tmp_path / "flat"
    config = build_network(directory, replace_edges=lambda e: Edges(
        e.name, e.source, e.target, e.sources, e.targets, {**e.attributes, "nsyns": 1},
        {"sign": 1.0}))
    out_flat, out = tmp_path / "flat_out", tmp_path / "out"
    assert_ok(run_neurodamus([config, "--output-path", out_flat, "--no-progress"]))
    assert_ok(run_neurodamus([network, "--output-path", out, "--no-progress"]))
    flat = read_spikes_by_population(out_flat / "out.h5")
    base = read_spikes_by_population(out / "out.h5")
    assert not np.array_equal(flat["exc"][0], base["exc"][0])



def test_save_on_2_ranks_restore_on_1_gives_the_uninterrupted_spikes(network, tmp_path):
    full, first, second = tmp_path / "full", tmp_path / "first", tmp_path / "second"
    assert_ok(run_neurodamus([network, "--output-path", full, "--no-progress"], ranks=2))
    assert_ok(run_neurodamus([network, "--output-path", first, "--save", tmp_path / "save",
                              "--save-time", TSTOP / 2, "--no-progress"], ranks=2))
    assert_ok(run_neurodamus([network, "--output-path", second, "--restore", tmp_path / "save",
                              "--no-progress"], ranks=1))
    uninterrupted = read_spikes_by_population(full / "out.h5")
    resumed = read_spikes_by_population(second / "out.h5")
    for population in ("exc", "inh"):
        times, ids = uninterrupted[population]
        expected = _sorted(times, ids, until=TSTOP)
        times, ids = resumed[population]
        got = _sorted(times, ids, until=TSTOP)
        assert (expected[0] > TSTOP / 2).sum() > 5
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])

def _edit(path, dataset, function):
    with h5py.File(path, "r+") as f:
        data = f[dataset][:]
        del f[dataset]
        result = function(data)
        if result is not None:
            f[dataset] = result


def test_negative_nsyns_is_one_error(tmp_path):
    config = build_network(tmp_path)
    _edit(tmp_path / "edges_inh__exc.h5", "edges/inh__exc/0/nsyns",
          lambda n: np.where(np.arange(n.size) == 3, -2, n))
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, "inh__exc", "edge 3", "nsyns is -2")


def test_point_neuron_missing_parameter_is_one_error(tmp_path):
    config = build_network(tmp_path)
    _edit(tmp_path / "nodes.h5", "nodes/exc/0/dynamics_params/refrac", lambda _: None)
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, "population 'exc'", "node 0", "dynamics_params/refrac")


def test_point_neuron_bad_parameter_is_one_error(tmp_path):
    config = build_network(tmp_path)
    _edit(tmp_path / "nodes.h5", "nodes/inh/0/dynamics_params/tau",
          lambda tau: np.where(np.arange(tau.size) == 2, -0.01, tau))
    assert_one_error(run_neurodamus([config, "--no-progress"]), "population 'inh'", "node 2",
                     "dynamics_params/tau", "> 0")


def test_unknown_point_model_and_weight_function_are_one_error_each(tmp_path):
    config = build_network(tmp_path / "model", replace_nodes=lambda n: Nodes(
        n.name, n.size, "nrn:IntFire3", n.dynamics) if n.name == "inh" else n)
    assert_one_error(run_neurodamus([config, "--no-progress"]), "population 'inh'",
                     "nrn:IntFire3", "nrn:IntFire1")
    config = build_network(tmp_path / "weights", replace_edges=lambda e: Edges(
        e.name, e.source, e.target, e.sources, e.targets,
        {**e.attributes, "weight_function": "myWeights"}, e.dynamics))
    assert_one_error(run_neurodamus([config, "--no-progress"]), "unknown weight function 'myWeights'",
                     "gaussianLL")


@pytest.mark.parametrize("what", ["stimulus", "report"])
def test_what_needs_a_membrane_is_one_error_on_a_point_neuron(network, tmp_path, what):
    raw = json.loads(network.read_text())
    if what == "stimulus":
        raw["inputs"]["step"] = {"module": "linear", "input_type": "current_clamp",
                                 "node_set": "exc", "amp_start": 0.1, "delay": 0.0,
                                 "duration": 10.0}
    else:
        raw["reports"] = {"soma_v": {"type": "compartment", "cells": "exc", "variable_name": "v",
                                     "sections": "soma", "dt": 0.1, "start_time": 0.0,
                                     "end_time": 10.0}}
    config = network.parent / f"with_{what}.json"
    config.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--output-path", tmp_path, "--no-progress"], ranks=2)
    assert_one_error(result, "population 'exc'", "point neuron (nrn:IntFire1) without sections")


def test_intfire2_and_intfire4_are_built_with_their_parameters(tmp_path):
    """IntFire2 / IntFire4 with NEURON's names, time constants in seconds; a driven
    IntFire2 with a bias above threshold fires regularly; IntFire4's order is checked."""
    script = tmp_path / "show.py"
    script.write_text(
        "import sys, json\n"
        "from neurodamus.config import load_settings\n"
        "from neurodamus.parallel import init_parallel\n"
        "from neurodamus.simulation import Simulation, SimulationOptions\n"
        "parallel = init_parallel()\n"
        "s = Simulation(load_settings(sys.argv[1], sys.argv[2]), parallel,\n"
        "               SimulationOptions(progress=False))\n"
        "s.run()\n"
        "cells = {c.population: c.artificial for c in s.model.cells}\n"
        "names = {'f2': ('taum', 'taus', 'ib'), 'f4': ('taue', 'taui1', 'taui2', 'taum')}\n"
        "print(json.dumps({p: [c.hname().split('[')[0]] + [getattr(c, n) for n in names[p]]\n"
        "                  for p, c in cells.items()}))\n")
    nodes = [Nodes("f2", 1, "nrn:IntFire2", dynamics={"taum": 0.01, "taus": 0.02, "ib": 1.5}),
             Nodes("f4", 1, "nrn:IntFire4", dynamics={"taue": 0.003, "taui1": 0.005,
                                                       "taui2": 0.01, "taum": 0.02})]
    circuit = build_point_style_circuit(tmp_path / "c", nodes, [])
    config = write_simulation_config(tmp_path / "c", circuit, tstop=100.0, node_set="All")
    result = run_mpi_script(script, [config, tmp_path / "out"], ranks=1)
    assert_ok(result)
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {"f2": ["IntFire2", 10.0, 20.0, 1.5], "f4": ["IntFire4", 3.0, 5.0, 10.0, 20.0]}
    times, _ = read_spikes_by_population(tmp_path / "out" / "out.h5")["f2"]
    assert times.size > 3 and np.ptp(np.diff(times)) < 1e-6  # bias 1.5 > 1: a regular train
    bad = [Nodes("f4", 1, "nrn:IntFire4", dynamics={"taue": 0.006, "taui1": 0.005,
                                                     "taui2": 0.01, "taum": 0.02})]
    circuit = build_point_style_circuit(tmp_path / "bad", bad, [])
    config = write_simulation_config(tmp_path / "bad", circuit, tstop=10.0, node_set="All")
    assert_one_error(run_neurodamus([config, "--no-progress"]), "population 'f4'", "node 0",
                     "taue < taui1 < taui2")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_intfire_m_is_recorded_as_its_one_element(tmp_path):
    """bmtk's membrane_report of IntFire1's `m` (a compartment report here): one element
    per point neuron, id 0. IntFire1 updates m at its events: 0 before the one input
    (weight 0.3, delay 2 ms, spike at 10 ms), 0.3 from its arrival at 12 ms."""
    circuit = build_point_style_circuit(tmp_path, [
        Nodes("src", 1, "virtual"),
        Nodes("cells", 1, "nrn:IntFire1", dynamics={"tau": 0.02, "refrac": 0.003})], [
        Edges("src__cells", "src", "cells", np.array([0]), np.array([0]),
              {"syn_weight": 0.3, "delay": 2.0, "model_template": "", "weight_function": "",
               "dynamics_params_file": "instantaneousExc.json"}, {"sign": 1.0})])
    from neurodamus.reports import write_spikes

    write_spikes(tmp_path / "src.h5", {"src": (np.array([10.0]), np.array([0]))})
    inputs = {"src": {"module": "synapse_replay", "input_type": "spikes", "node_set": "cells",
                      "spike_file": "src.h5", "delay": 0.0, "duration": 30.0}}
    reports = {"m": {"type": "compartment", "cells": "cells", "variable_name": "m",
                     "sections": "soma", "compartments": "center", "start_time": 0.0,
                     "end_time": 30.0, "dt": 0.1}}
    config = write_simulation_config(tmp_path, circuit, tstop=30.0, inputs=inputs,
                                     reports=reports, node_set="All")
    assert_ok(run_neurodamus([config, "--output-path", tmp_path / "out", "--no-progress"]))
    import libsonata

    report = libsonata.ElementReportReader(str(tmp_path / "out" / "m.h5"))["cells"]
    frame = report.get()
    values, times = np.asarray(frame.data)[:, 0], np.asarray(frame.times)
    assert frame.ids.tolist() == [[0, 0]]
    np.testing.assert_array_equal(values[times < 11.9], 0.0)
    np.testing.assert_allclose(values[times > 12.1], 0.3, rtol=1e-6)  # stored as float32
