"""Edges in the bmtk convention onto compartmental cells: Exp2Syn with tau1, tau2, erev from
dynamics_params and the weight of bmtk's weight function; at the edge's location, or
nsyns synapses placed in target_sections / distance_range draw for draw as bmtk places
them (checked against an independent re-implementation), the same on 1 and 2 ranks; replayed virtual sources reach them."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_mpi_script, run_neurodamus

from neurodamus.reports import read_spikes_by_population, write_spikes
from neurodamus.testing.circuit_builder import write_simulation_config
from neurodamus.testing.point_style import (
    Edges,
    Nodes,
    build_point_style_circuit,
    unique_pairs,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

PROBE = Path(__file__).parent / "scripts" / "probe_templated_synapses.py"
DT = 0.025


def probe(config, output, ranks=1, record=False):
    assert_ok(run_mpi_script(PROBE, [config, output] + (["--record"] if record else []),
                             ranks=ranks))
    rows, count = [], 0
    for rank in range(ranks):
        part = json.loads((output / f"synapses_rank{rank}.json").read_text())
        rows += part["synapses"]
        count += part["count"]
    return rows, count


# -- one synapse against the analytic double exponential ----------------------------------

TAU1, TAU2, EREV, WEIGHT, DELAY = 0.5, 4.0, 0.0, 0.002, 1.5  # ms, ms, mV, uS, ms
SPIKES = np.array([10.0, 12.5, 30.0, 31.0, 31.5])  # on the time grid, as are the arrivals
BASAL_SECTION = 3  # a SONATA section id of write_pyramidal's layout (soma, 1 axon, 6 basal)


@pytest.fixture(scope="module")
def one_synapse(tmp_path_factory):
    directory = tmp_path_factory.mktemp("exp2syn")
    circuit = build_point_style_circuit(directory, [
        Nodes("src", 1, "virtual"), Nodes("cell", 1, "hoc:NdExcCell")], [
        Edges("src__cell", "src", "cell", np.array([0]), np.array([0]),
              {"syn_weight": WEIGHT, "delay": DELAY, "model_template": "Exp2Syn",
               "weight_function": "", "afferent_section_id": BASAL_SECTION,
               "afferent_section_pos": 0.3, "dynamics_params_file": "AMPA_ExcToExc.json"},
              {"tau1": TAU1, "tau2": TAU2, "erev": EREV})])
    write_spikes(directory / "src.h5", {"src": (SPIKES, np.zeros(SPIKES.size, np.int64))})
    inputs = {"src": {"module": "synapse_replay", "input_type": "spikes", "node_set": "cell",
                      "spike_file": "src.h5", "delay": 0.0, "duration": 60.0}}
    return write_simulation_config(directory, circuit, tstop=60.0, dt=DT, inputs=inputs,
                                   node_set="All")


def test_exp2syn_conductance_is_the_analytic_double_exponential(one_synapse, tmp_path):
    rows, count = probe(one_synapse, tmp_path, record=True)
    assert count == 1 and len(rows) == 1
    row = rows[0]
    assert (row["tau1"], row["tau2"], row["e"]) == (TAU1, TAU2, EREV)
    assert row["weight"] == WEIGHT and row["delay"] == DELAY
    assert row["section_id"] == BASAL_SECTION and row["section"].startswith("dend[")
    assert row["x"] == pytest.approx(0.3)
    states = np.load(tmp_path / "states_rank0.npz")
    t = states["time"]
    g = states[f"{row['gid']}_0_B"] - states[f"{row['gid']}_0_A"]
    # Exp2Syn: g = w * factor * sum(exp(-s / tau2) - exp(-s / tau1)), s = time since
    # arrival, factor normalising one event's peak to w.
    peak_time = TAU1 * TAU2 / (TAU2 - TAU1) * np.log(TAU2 / TAU1)
    factor = 1 / (np.exp(-peak_time / TAU2) - np.exp(-peak_time / TAU1))
    since = t[:, None] - (SPIKES + DELAY)[None, :]
    after = np.maximum(since, 0.0)
    expected = WEIGHT * factor * np.where(
        since >= -DT / 2, np.exp(-after / TAU2) - np.exp(-after / TAU1), 0.0).sum(axis=1)
    # Arrivals fall on the time grid, where the event is delivered; the states A and B
    # are integrated by cnexp, which multiplies them by exp(-dt / tau) each step -- the
    # exact solution of their linear equations. What is left is rounding: of t (summed
    # step by step) and of exp, a few 1e-12 of the weight over these 2400 steps; 1e-9 of
    # it leaves room for that and is still 10^7 times below the error of delivering the
    # events one step (dt) early or late (0.08 of the weight).
    assert np.abs(expected).max() > 0.9 * WEIGHT
    np.testing.assert_allclose(g, expected, rtol=0, atol=1e-9 * WEIGHT)


# -- nsyns placed at run time, gaussianLL weights, 1 and 2 ranks --------------------------

@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    directory = tmp_path_factory.mktemp("placed")
    rng = np.random.default_rng(8)
    n_src, n_cells = 8, 3
    exc_sources, exc_targets = unique_pairs(rng, n_src, n_cells, 4)
    inh_sources, inh_targets = unique_pairs(rng, n_src, n_cells, 2)
    circuit = build_point_style_circuit(directory, [
        Nodes("lgn", n_src, "virtual", attributes={"tuning_angle": rng.uniform(0, 360, n_src)}),
        Nodes("v1", n_cells, "hoc:NdExcCell",
              attributes={"tuning_angle": rng.uniform(0, 360, n_cells)})], [
        Edges("lgn__v1_exc", "lgn", "v1", exc_sources, exc_targets,
              {"syn_weight": 0.004, "weight_sigma": 50.0, "weight_function": "gaussianLL",
               "delay": rng.uniform(1.0, 2.0, exc_sources.size), "model_template": "exp2syn",
               "nsyns": rng.integers(0, 5, exc_sources.size),
               "target_sections": "['basal', 'apical']", "distance_range": "[30.0, 150.0]"},
              {"tau1": 1.0, "tau2": 3.0, "erev": 0.0}),
        Edges("lgn__v1_inh", "lgn", "v1", inh_sources, inh_targets,
              {"syn_weight": 0.001, "weight_function": "wmax", "delay": 2.0,
               "model_template": "Exp2Syn", "nsyns": 3,
               "target_sections": "['somatic']", "distance_range": "[0.0, 1e+20]"},
              {"tau1": 2.7, "tau2": 15.0, "erev": -70.0})])
    times = np.sort(rng.uniform(0, 180, 200))
    write_spikes(directory / "lgn.h5", {"lgn": (times, rng.integers(0, n_src, times.size))})
    inputs = {"lgn": {"module": "synapse_replay", "input_type": "spikes", "node_set": "v1",
                      "spike_file": "lgn.h5", "delay": 0.0, "duration": 200.0}}
    return write_simulation_config(directory, circuit, tstop=200.0, inputs=inputs,
                                   node_set="All", extra={"run": {
                                       "tstop": 200.0, "dt": DT, "random_seed": 1,
                                       "spike_threshold": -20, "synapse_seed": 17}})


def _edges_file(config, name):
    import libsonata
    population = libsonata.EdgeStorage(str(config.parent / f"edges_{name}.h5")).open_population(name)
    everything = population.select_all()
    return population, everything


def _key(row):
    return (row["gid"], row["edge_population"], row["edge_id"], row["index"])


def test_nsyns_placed_in_target_sections_with_bmtk_weights(placed, tmp_path):
    import libsonata

    rows, count = probe(placed, tmp_path / "one")
    assert count == len(rows)
    nodes = libsonata.NodeStorage(str(placed.parent / "nodes.h5"))
    angle = {p: np.asarray(nodes.open_population(p).get_attribute(
        "tuning_angle", nodes.open_population(p).select_all())) for p in ("lgn", "v1")}
    offsets = json.loads((tmp_path / "one" / "synapses_rank0.json").read_text())["offsets"]
    for name, kinds, (low, high) in (("lgn__v1_exc", ("dend", "apic"), (30.0, 150.0)),
                                     ("lgn__v1_inh", ("soma",), (0.0, 1e20))):
        population, everything = _edges_file(placed, name)
        nsyns = np.asarray(population.get_attribute("nsyns", everything))
        delays = np.asarray(population.get_attribute("delay", everything))
        sources = np.asarray(population.source_nodes(everything))
        targets = np.asarray(population.target_nodes(everything))
        mine = [r for r in rows if r["edge_population"] == name]
        made = np.bincount([r["edge_id"] for r in mine], minlength=nsyns.size)
        np.testing.assert_array_equal(made, nsyns)  # nsyns synapses per edge
        for row in mine:
            edge = row["edge_id"]
            assert row["source_gid"] == offsets["lgn"] + sources[edge]
            assert row["gid"] == offsets["v1"] + targets[edge]
            assert row["delay"] == pytest.approx(delays[edge])
            assert row["section"][:4] in kinds
            half = row["length"] / row["nseg"] / 2
            assert row["distance"] + half > low and row["distance"] - half < high
            assert row["segment_x"] == pytest.approx(row["x"])  # at a segment's centre
            if name == "lgn__v1_exc":  # bmtk's gaussianLL
                difference = abs(angle["v1"][targets[edge]] - angle["lgn"][sources[edge]])
                folded = abs(abs(abs(180.0 - difference % 360.0) - 90.0) - 90.0)
                expected = 0.004 * np.exp(-(folded / 50.0) ** 2)
                assert not row["inhibitory"] and (row["tau1"], row["e"]) == (1.0, 0.0)
            else:
                expected = 0.001
                assert row["inhibitory"] and (row["tau2"], row["e"]) == (15.0, -70.0)
            assert row["weight"] == pytest.approx(expected, rel=1e-12)
    # Placements spread over sections (not all on one), different per edge.
    exc = [r for r in rows if r["edge_population"] == "lgn__v1_exc"]
    assert len({(r["section"], r["x"]) for r in exc}) > len(exc) // 2


def test_placements_and_spikes_same_on_1_and_2_ranks(placed, tmp_path):
    one, _ = probe(placed, tmp_path / "one", ranks=1)
    two, _ = probe(placed, tmp_path / "two", ranks=2)
    assert sorted(one, key=_key) == sorted(two, key=_key)
    spikes = {}
    for ranks in (1, 2):
        out = tmp_path / f"run{ranks}"
        assert_ok(run_neurodamus([placed, "--output-path", out, "--no-progress"], ranks=ranks))
        spikes[ranks] = read_spikes_by_population(out / "out.h5")["v1"]
        summary = json.loads((out / "run_summary.json").read_text())
        assert summary["synapse_models"] == {
            "lgn__v1_exc": "Exp2Syn (bmtk: model_template, syn_weight, dynamics_params)",
            "lgn__v1_inh": "Exp2Syn (bmtk: model_template, syn_weight, dynamics_params)"}
    assert spikes[1][0].size > 0
    np.testing.assert_array_equal(spikes[1][0], spikes[2][0])
    np.testing.assert_array_equal(spikes[1][1], spikes[2][1])


class MersenneTwister:
    """MT19937 seeded as NumPy's legacy RandomState(int) seeds it, with its 53-bit doubles:
    an independent re-implementation of the generator bmtk draws placements from."""

    def __init__(self, seed: int):
        self.state = [seed & 0xFFFFFFFF]
        for i in range(1, 624):
            previous = self.state[-1]
            self.state.append((1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF)
        self.index = 624

    def _word(self) -> int:
        if self.index >= 624:
            mt = self.state
            for i in range(624):
                y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7FFFFFFF)
                mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.index = 0
        y = self.state[self.index]
        self.index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        return y ^ (y >> 18)

    def double(self) -> float:
        return ((self._word() >> 5) * 67108864.0 + (self._word() >> 6)) / 9007199254740992.0


def bmtk_placements(segments, gid, edges):
    """bmtk's draws for one cell: `edges` (edge population, edge id, nsyns, kinds, (low,
    high)) in bmtk's order; -> {(population, edge id): [(section, x), ...]}."""
    stream, out = MersenneTwister(gid), {}
    for population, edge_id, nsyns, kinds, (low, high) in edges:
        weights = []
        for index, (section, _x, length, distance) in enumerate(segments):
            overlap = max(0.0, min(distance + length / 2, high)
                          - max(distance - length / 2, low)) / length
            if overlap > 0 and section[:4] in kinds:
                weights.append((index, length * overlap))
        if not weights:
            continue
        total = sum(w for _, w in weights)
        cumulative = np.cumsum([w / total for _, w in weights])
        cumulative /= cumulative[-1]
        chosen = []
        for _ in range(nsyns):
            u = stream.double()
            k = next(i for i, c in enumerate(cumulative) if c > u)
            chosen.append(tuple(segments[weights[k][0]][:2]))
        out[(population, edge_id)] = chosen
    return out


def test_placements_are_bmtks_draw_for_draw(placed, tmp_path):
    """Each cell's generator seeded by bmtk's gid (lgn's 8 nodes come first), edges in
    bmtk's order (both populations come from the lgn input: circuit-config order)."""
    rows, _ = probe(placed, tmp_path / "one")
    part = json.loads((tmp_path / "one" / "synapses_rank0.json").read_text())
    offsets = part["offsets"]
    rules = {"lgn__v1_exc": (("dend", "apic"), (30.0, 150.0)),
             "lgn__v1_inh": (("soma",), (0.0, 1e20))}
    per_cell: dict = {}
    for name in ("lgn__v1_exc", "lgn__v1_inh"):
        population, everything = _edges_file(placed, name)
        nsyns = np.asarray(population.get_attribute("nsyns", everything)).tolist()
        targets = np.asarray(population.target_nodes(everything)).tolist()
        for edge_id, (target, n) in enumerate(zip(targets, nsyns)):
            per_cell.setdefault(target, []).append((name, edge_id, n, *rules[name]))
    checked = 0
    for target, edges in per_cell.items():
        gid = offsets["v1"] + target
        expected = bmtk_placements(part["segments"][str(gid)], 8 + target, edges)
        mine = sorted((r for r in rows if r["gid"] == gid), key=lambda r: r["index"])
        for (name, edge_id), where in expected.items():
            made = [(r["section"], r["x"]) for r in mine
                    if (r["edge_population"], r["edge_id"]) == (name, edge_id)]
            assert made == [(s, pytest.approx(x, abs=1e-12)) for s, x in where]
            checked += len(where)
    assert checked == len(rows) > 20


def test_mersenne_twister_is_numpys_legacy_generator():
    stream, reference = MersenneTwister(12345), np.random.RandomState(12345)
    assert [stream.double() for _ in range(700)] == reference.random_sample(700).tolist()


def test_expsyn_template_is_neurons_expsyn_with_bmtks_parameters(tmp_path):
    """bmtk's `expsyn`: NEURON's ExpSyn, tau = dynamics_params tau1, e = erev."""
    circuit = build_point_style_circuit(tmp_path, [
        Nodes("src", 1, "virtual"), Nodes("cell", 1, "hoc:NdExcCell")], [
        Edges("src__cell", "src", "cell", np.array([0]), np.array([0]),
              {"syn_weight": WEIGHT, "delay": DELAY, "model_template": "expsyn",
               "afferent_section_id": BASAL_SECTION, "afferent_section_pos": 0.3},
              {"tau1": 2.5, "tau2": 9.0, "erev": -70.0})])
    config = write_simulation_config(tmp_path, circuit, tstop=5.0, dt=DT, node_set="All")
    rows, _ = probe(config, tmp_path / "out")
    (row,) = rows
    assert (row["mechanism"], row["tau"], row["e"], row["inhibitory"]) == (
        "ExpSyn", 2.5, -70.0, True)
    assert row["weight"] == pytest.approx(WEIGHT)


def test_one_population_may_mix_synapse_models(tmp_path):
    """bmtk's edge types may give one population several model_templates."""
    circuit = build_point_style_circuit(tmp_path, [
        Nodes("src", 2, "virtual"), Nodes("cell", 1, "hoc:NdExcCell")], [
        Edges("src__cell", "src", "cell", np.array([0, 1]), np.array([0, 0]),
              {"syn_weight": WEIGHT, "delay": DELAY,
               "model_template": np.array(["expsyn", "Exp2Syn"]),
               "afferent_section_id": BASAL_SECTION, "afferent_section_pos": 0.3},
              {"tau1": 2.5, "tau2": 9.0, "erev": 0.0})])
    config = write_simulation_config(tmp_path, circuit, tstop=5.0, dt=DT, node_set="All")
    rows, _ = probe(config, tmp_path / "out")
    assert {r["edge_id"]: r["mechanism"] for r in rows} == {0: "ExpSyn", 1: "Exp2Syn"}


# -- errors -------------------------------------------------------------------------------

def _single_edge_circuit(directory, attributes, dynamics):
    circuit = build_point_style_circuit(directory, [
        Nodes("src", 2, "virtual"), Nodes("cell", 2, "hoc:NdExcCell")], [
        Edges("src__cell", "src", "cell", np.array([0, 1]), np.array([0, 1]),
              {"syn_weight": 0.001, "delay": 1.0, "model_template": "Exp2Syn", **attributes},
              dynamics)])
    return write_simulation_config(directory, circuit, tstop=10.0, node_set="All")


PLACEMENT = {"nsyns": 2, "target_sections": "['basal']", "distance_range": "[0, 100]"}
EXP2SYN = {"tau1": 1.0, "tau2": 3.0, "erev": 0.0}
BAD_EDGES = {
    "negative nsyns": ({**PLACEMENT, "nsyns": -1}, EXP2SYN, ("src__cell", "nsyns is -1")),
    "unknown model": ({**PLACEMENT, "model_template": "pyr2pyr"}, EXP2SYN,
                      ("src__cell", "model_template 'pyr2pyr'", "Exp2Syn")),
    "missing erev": (PLACEMENT, {"tau1": 1.0, "tau2": 3.0}, ("src__cell", "dynamics_params/erev")),
    "unknown section label": ({**PLACEMENT, "target_sections": "['dendrites']"}, EXP2SYN,
                              ("src__cell", "target_sections", "basal")),
    "no placement": ({"nsyns": 1}, EXP2SYN, ("src__cell", "target_sections")),
    "gaussianLL without tuning_angle": (
        {**PLACEMENT, "weight_function": "gaussianLL", "weight_sigma": 10.0}, EXP2SYN,
        ("population 'src'", "gaussianLL", "tuning_angle")),
}


@pytest.mark.parametrize("case", sorted(BAD_EDGES))
def test_bad_templated_edges_are_one_error_each(tmp_path, case):
    attributes, dynamics, expected = BAD_EDGES[case]
    config = _single_edge_circuit(tmp_path, attributes, dynamics)
    assert_one_error(run_neurodamus([config, "--no-progress"], ranks=2), *expected)
