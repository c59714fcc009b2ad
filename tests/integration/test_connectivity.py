"""Connectivity features through the driver on real MPI ranks: gap junctions, replay,
connection overrides, minis, and a circuit with all of them giving the same spikes on
1 and 2 ranks."""

import json
from pathlib import Path
from typing import Any

import h5py
import libsonata
import numpy as np
import pytest
from conftest import assert_ok, run_mpi_script, run_neurodamus

from neurodamus.connectivity.delays import whole_steps
from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_poisson_spikes,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

PROBE = Path(__file__).parent / "scripts" / "probe_simulation.py"


def probe(config, output, ranks):
    assert_ok(run_mpi_script(PROBE, [config, output], ranks=ranks))
    merged: dict[str, Any] = {"synapses": [], "event_times": {}, "weights_at": {},
                              "connections": []}
    voltages: dict[int | str, Any] = {}
    for rank in range(ranks):
        part = json.loads((output / f"probes_rank{rank}.json").read_text())
        merged["synapses"] += part["synapses"]
        merged["event_times"].update(part["event_times"])
        merged["offsets"] = part["offsets"]
        merged["connections"].append(part["connections"])
        for t, weights in part["weights_at"].items():
            merged["weights_at"].setdefault(t, {}).update(weights)
        data = np.load(output / f"voltages_rank{rank}.npz")
        voltages.update({int(k): data[k] for k in data.files if k != "time"})
        voltages["time"] = data["time"]
    return merged, voltages


# -- gap junctions ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gap_circuit(tmp_path_factory):
    """Two fast-spiking cells joined by one soma-soma junction; only cell 0 is driven,
    below threshold, so cell 1 moves only through the junction."""
    directory = tmp_path_factory.mktemp("gap")
    spec = CircuitSpec(populations=[PopulationSpec("inh", 2, "inh")],
                       gap_junctions=[GapJunctionSpec("inh", pairs=1, conductance=5.0)], seed=2)
    circuit = build_circuit(directory, spec)
    (directory / "sets.json").write_text(json.dumps({"first": {"population": "inh", "node_id": [0]}}))
    inputs = {"drive": {"module": "linear", "input_type": "current_clamp", "node_set": "first",
                        "amp_start": -0.05, "delay": 10.0, "duration": 50.0}}
    return write_simulation_config(directory, circuit, tstop=80.0, inputs=inputs,
                                   extra={"node_sets_file": "sets.json"})


def test_gap_junction_same_current_on_one_and_two_ranks(gap_circuit, tmp_path):
    _, one = probe(gap_circuit, tmp_path / "one", ranks=1)
    merged, two = probe(gap_circuit, tmp_path / "two", ranks=2)
    assert [c["gap_junctions"] for c in merged["connections"]] == [1, 1]  # one half per rank
    for gid in (0, 1):
        np.testing.assert_allclose(two[gid], one[gid], rtol=0, atol=1e-9)
    # The undriven cell really follows the driven one through the junction.
    rest = one[1][np.searchsorted(one["time"], 9.0)]
    assert rest - one[1].min() > 0.5


# -- replay -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def replay_circuit(tmp_path_factory):
    directory = tmp_path_factory.mktemp("replay")
    spec = CircuitSpec(populations=[PopulationSpec("exc", 3, "exc"),
                                    PopulationSpec("thalamus", 5, "virtual")],
                       edges=[EdgeSpec("thalamus", "exc", per_target=4, conductance=0.5)], seed=5)
    circuit = build_circuit(directory, spec)
    write_poisson_spikes(directory / "replay.h5", "thalamus", range(5), rate=40.0, tstop=100.0,
                         seed=1)
    inputs = {"replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
                         "spike_file": "replay.h5", "delay": 20.0, "duration": 60.0}}
    return write_simulation_config(directory, circuit, tstop=100.0, inputs=inputs, node_set="exc")


def test_replayed_spikes_arrive_at_spike_time_plus_delay(replay_circuit, tmp_path):
    merged, _ = probe(replay_circuit, tmp_path / "out", ranks=2)
    spikes = libsonata.SpikeReader(str(replay_circuit.parent / "replay.h5"))["thalamus"].get_dict()
    offset = merged["offsets"]["thalamus"]
    checked = 0
    for synapse in merged["synapses"]:
        node = synapse["source_gid"] - offset
        times = spikes["timestamps"][spikes["node_ids"] == node]
        kept = times[(times >= 20.0) & (times < 80.0)]  # only within [delay, delay + duration)
        expected = np.unique(kept + synapse["delay"])
        received = np.array(merged["event_times"][f"{synapse['gid']}:{synapse['index']}"])
        np.testing.assert_array_equal(received, expected)  # exactly
        checked += expected.size
    assert checked > 20


def test_replay_old_layout_needs_source(replay_circuit, tmp_path):
    old = replay_circuit.parent / "old_layout.h5"
    with h5py.File(old, "w") as f:
        f["spikes/gids"] = np.array([0, 1], np.uint64)
        f["spikes/timestamps"] = np.array([25.0, 30.0])
    raw = json.loads(replay_circuit.read_text())
    raw["inputs"]["replay"]["spike_file"] = str(old)
    config = replay_circuit.parent / "old.json"
    config.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=120)
    assert result.returncode == 1 and "give the input a 'source'" in result.stderr
    raw["inputs"]["replay"]["source"] = "thalamus"
    config.write_text(json.dumps(raw))
    merged, _ = probe(config, tmp_path / "old", ranks=1)
    assert sum(c["replayed_events"] for c in merged["connections"]) > 0


# -- overrides ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def override_circuit(tmp_path_factory):
    directory = tmp_path_factory.mktemp("overrides")
    spec = CircuitSpec(populations=[PopulationSpec("exc", 4, "exc"), PopulationSpec("inh", 3, "inh")],
                       edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
                              EdgeSpec("inh", "exc", 3, 1.0)], seed=9)
    circuit = build_circuit(directory, spec)
    overrides = [
        {"name": "all_to_exc", "source": "All", "target": "exc", "weight": 2.0},
        {"name": "inh_to_exc", "source": "inh", "target": "exc", "weight": 3.0,
         "synapse_delay_override": 4.5},
        {"name": "exc_to_inh_late", "source": "exc", "target": "inh", "weight": 0.5,
         "delay": 30.0, "synapse_configure": "%s.Use = 0.77"},
        {"name": "minis", "source": "exc", "target": "exc", "spont_minis": 2.0},
    ]
    return write_simulation_config(directory, circuit, tstop=60.0, inputs={},
                                   extra={"connection_overrides": overrides})


def test_overrides_change_exactly_the_named_connections(override_circuit, tmp_path):
    merged, _ = probe(override_circuit, tmp_path / "out", ranks=2)
    offsets = merged["offsets"]
    n_exc = offsets["inh"] - offsets["exc"]
    def population(gid):
        return "exc" if gid < offsets["exc"] + n_exc else "inh"
    edges = {}
    for name in ("exc__exc__chemical", "exc__inh__chemical", "inh__exc__chemical"):
        pop = libsonata.EdgeStorage(str(override_circuit.parent / f"edges_{name}.h5")).open_population(name)
        edges[name] = {"delay": pop.get_attribute("delay", pop.select_all()),
                       "u_syn": pop.get_attribute("u_syn", pop.select_all())}
    weights_before, weights_after = merged["weights_at"]["20.0"], merged["weights_at"]["60.0"]
    assert len(merged["synapses"]) == 4 * 3 + 3 * 3 + 4 * 3
    for s in merged["synapses"]:
        pair = (population(s["source_gid"]), population(s["gid"]))
        key = f"{s['gid']}:{s['index']}"
        edge_delay = float(whole_steps(edges[s["edge_population"]]["delay"][s["edge_id"]], 0.025))
        if pair == ("exc", "exc"):
            assert weights_before[key] == pytest.approx(2.0 * s["base_weight"], rel=1e-12)
            assert s["delay"] == pytest.approx(edge_delay, rel=1e-6) and s["minis"] == 2.0
        elif pair == ("inh", "exc"):  # the later override wins
            assert weights_before[key] == pytest.approx(3.0 * s["base_weight"], rel=1e-12)
            assert s["delay"] == 4.5 and s["minis"] == 0
        else:  # exc -> inh: unchanged until 30 ms, then halved and reconfigured
            assert weights_before[key] == pytest.approx(s["base_weight"], rel=1e-12)
            assert weights_after[key] == pytest.approx(0.5 * s["base_weight"], rel=1e-12)
            assert s["Use"] == pytest.approx(0.77)
            assert s["delay"] == pytest.approx(edge_delay, rel=1e-6) and s["minis"] == 0
        if pair != ("exc", "inh"):
            assert s["Use"] == pytest.approx(float(edges[s["edge_population"]]["u_syn"][s["edge_id"]]))


# -- everything together ------------------------------------------------------------------

def test_all_features_same_spikes_on_one_and_two_ranks(tmp_path):
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 10, "exc", mini_frequencies=(1.0, 1.0)),
                     PopulationSpec("inh", 4, "inh"), PopulationSpec("thalamus", 6, "virtual")],
        edges=[EdgeSpec("exc", "exc", 5, 1.5), EdgeSpec("exc", "inh", 6, 1.0),
               EdgeSpec("inh", "exc", 4, 1.0), EdgeSpec("thalamus", "exc", 4, 2.0)],
        gap_junctions=[GapJunctionSpec("inh", pairs=3, conductance=1.0)], seed=21)
    circuit = build_circuit(tmp_path, spec)
    write_poisson_spikes(tmp_path / "thalamus.h5", "thalamus", range(6), rate=30.0, tstop=200.0)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.3, "delay": 10.0, "duration": 180.0},
              "replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
                         "spike_file": "thalamus.h5", "delay": 0.0, "duration": 200.0}}
    overrides = [{"name": "boost", "source": "exc", "target": "inh", "weight": 1.5, "delay": 50.0}]
    config = write_simulation_config(
        tmp_path, circuit, tstop=200.0, inputs=inputs, node_set="All",
        extra={"connection_overrides": overrides,
               "conditions": {"celsius": 6.3, "v_init": -65, "extracellular_calcium": 1.8,
                              "randomize_gaba_rise_time": True}})
    for ranks in (1, 2):
        assert_ok(run_neurodamus([config, "--output-path", tmp_path / f"out{ranks}", "--no-progress"],
                                 ranks=ranks))
    one = read_spikes_by_population(tmp_path / "out1" / "out.h5")
    two = read_spikes_by_population(tmp_path / "out2" / "out.h5")
    assert sum(t.size for t, _ in one.values()) > 20
    for population in one:
        np.testing.assert_array_equal(one[population][0], two[population][0])
        np.testing.assert_array_equal(one[population][1], two[population][1])


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("change, expected", [
    (lambda raw: raw.__setitem__("connection_overrides", [
        {"name": "x", "source": "exc", "target": "inh", "wieght": 2.0}]),
     ["connection_overrides[0].wieght", "not a known key"]),
    (lambda raw: raw.__setitem__("connection_overrides", [
        {"name": "x", "source": "nobody", "target": "inh", "weight": 2.0}]),
     ["connection_overrides[0].source", "node set 'nobody' is not defined"]),
    (lambda raw: raw["inputs"].__setitem__("replay", {
        "module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
        "spike_file": "missing_spikes.h5", "delay": 0.0, "duration": 10.0}),
     ["inputs.replay.spike_file", "missing_spikes.h5", "not found"]),
    (lambda raw: raw["conditions"].__setitem__("mechanisms", {"NdTmExc": {"no_such_global": 1}}),
     ["conditions.mechanisms.NdTmExc.no_such_global"]),
])
def test_bad_connectivity_input(small_circuit, change, expected):
    config = small_circuit()
    raw = json.loads(config.read_text())
    change(raw)
    config.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=120)
    assert result.returncode == 1, result.stdout
    assert result.stderr.count("neurodamus: error:") == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
