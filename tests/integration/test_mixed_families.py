"""Every cell family in one circuit and one run (neurodamus/testing/mixed_families.py): our
hoc template, BBP-style e-models with their ProbAMPANMDA_EMS stand-ins, Allen cells
(ctdb: and nml:) and IntFire1 point neurons, connected by SONATA/BBP and bmtk edges, with
a replay and a current input. Each family fires, and only through the edges into it; 1 and
2 ranks give exactly the same spikes; the summary, the log and the synapses themselves
agree on each population's engine and synapse model; 2 ranks share every population."""

import json
from pathlib import Path

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, run_mpi_script, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.mixed_families import (
    EDGE_CONVENTIONS,
    SIZES,
    build_mixed_circuit,
)

pytestmark = pytest.mark.mpi

DUMP = Path(__file__).parent / "scripts" / "dump_synapse_mechanisms.py"
BUILT = [name for name in SIZES if name != "input"]
# What the run summary and the log say, by the start of the text.
ENGINES = {"ours": "hoc template", "cortex": "hoc template", "allen": "Allen cell",
           "point": "NEURON artificial cell"}
# Per edge population: how its synapse model's name starts, and what else it names. (The
# SONATA/BBP description adds "(NdTm where a modoverride matches)" to every SONATA
# population, whether or not the override can match it; only ours' edges must say NdTm.)
BBP = "ProbAMPANMDA_EMS/ProbGABAAB_EMS"
EXP2SYN = "Exp2Syn (bmtk: model_template, syn_weight, dynamics_params)"
NETCON = "NetCon onto point neuron (bmtk: syn_weight, sign, nsyns)"
SYNAPSE_MODELS = {
    "cortex__cortex__chemical": (BBP, ""), "input__cortex__chemical": (BBP, ""),
    "input__ours__chemical": (BBP, "NdTm"), "point__ours__chemical": (BBP, "NdTm"),
    "input__allen__chemical": (EXP2SYN, ""), "ours__allen__chemical": (EXP2SYN, ""),
    "input__point__chemical": (NETCON, ""), "allen__point__chemical": (NETCON, ""),
}
# The point processes they became (the override gives our cells NdTm).
MECHANISMS = {
    "cortex__cortex__chemical": {"ProbAMPANMDA_EMS", "ProbGABAAB_EMS"},
    "input__cortex__chemical": {"ProbAMPANMDA_EMS"},
    "input__ours__chemical": {"NdTmExc"}, "point__ours__chemical": {"NdTmExc"},
    "input__allen__chemical": {"Exp2Syn"}, "ours__allen__chemical": {"Exp2Syn"},
    "input__point__chemical": {"IntFire1"}, "allen__point__chemical": {"IntFire1"},
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return build_mixed_circuit(tmp_path_factory.mktemp("mixed"))


@pytest.fixture(scope="module")
def runs(mixed):
    """{ranks: (output directory, completed process)} of the CLI on 1 and 2 ranks."""
    out = {}
    for ranks in (1, 2):
        output = mixed.directory / f"out_ranks{ranks}"
        result = run_neurodamus([mixed.simulation_config, "--output-path", output,
                                 "--no-progress"], ranks=ranks, timeout=120)
        assert_ok(result)
        out[ranks] = output, result
    return out


def _spikes(output) -> dict:
    """{population: (times, node ids)} sorted by time, then node id."""
    out = {}
    for population, (times, ids) in read_spikes_by_population(output / "out.h5").items():
        order = np.lexsort((ids, times))
        out[population] = times[order], ids[order]
    return out


def test_every_cell_of_every_family_fires(mixed, runs):
    for ranks, (output, _) in runs.items():
        spikes = _spikes(output)
        assert sorted(spikes) == sorted(BUILT), ranks
        for population in BUILT:
            times, ids = spikes[population]
            counts = np.bincount(ids, minlength=SIZES[population])
            assert counts.size == SIZES[population] and (counts > 0).all(), (ranks, population,
                                                                             counts)
            assert times.min() > 0 and times.max() < mixed.tstop


def test_one_and_two_ranks_give_exactly_the_same_spikes(runs):
    one, two = _spikes(runs[1][0]), _spikes(runs[2][0])
    assert sum(t.size for t, _ in one.values()) > 100
    for population in BUILT:
        np.testing.assert_array_equal(two[population][0], one[population][0])  # exactly
        np.testing.assert_array_equal(two[population][1], one[population][1])


def _expected_synapses(mixed) -> int:
    """One per edge, but nsyns per edge where bmtk places them (no afferent_section_id)."""
    config = libsonata.CircuitConfig.from_file(str(mixed.circuit_config))
    total = 0
    for name in config.edge_populations:
        population = config.edge_population(name)
        everything = population.select_all()
        names = population.attribute_names
        if "nsyns" in names and "afferent_section_id" not in names \
                and population.target != "point":
            total += int(np.sum(population.get_attribute("nsyns", everything)))
        else:
            total += population.size
    return total


def test_summary_and_log_name_every_engine_and_synapse_model(mixed, runs):
    assert set(EDGE_CONVENTIONS) == set(SYNAPSE_MODELS)
    for ranks, (output, result) in runs.items():
        summary = json.loads((output / "run_summary.json").read_text())
        assert summary["cells"] == sum(SIZES[p] for p in BUILT)
        assert summary["synapses"] == _expected_synapses(mixed)
        assert sorted(summary["cell_engines"]) == sorted(BUILT), ranks
        for population, start in ENGINES.items():
            engine = summary["cell_engines"][population]
            assert engine.startswith(start), (ranks, population, engine)
            assert f"Cells of {population}: {engine}\n" in result.stdout
        assert sorted(summary["synapse_models"]) == sorted(SYNAPSE_MODELS), ranks
        for population, (start, also) in SYNAPSE_MODELS.items():
            model = summary["synapse_models"][population]
            assert model.startswith(start) and also in model, (ranks, population, model)
            assert f"Synapses of {population}: {model}\n" in result.stdout


def test_synapses_are_the_mechanisms_named(mixed, tmp_path):
    assert_ok(run_mpi_script(DUMP, [mixed.simulation_config, tmp_path], ranks=2, timeout=120))
    parts = [json.loads((tmp_path / f"mechanisms_rank{rank}.json").read_text())
             for rank in (0, 1)]
    for population, expected in MECHANISMS.items():
        made = set().union(*(part["mechanisms"].get(population, {}) for part in parts))
        assert made == expected, population
    for population in BUILT:  # each rank holds cells of every population
        assert all(part["cells"].get(population, 0) > 0 for part in parts), population
    assert sum(sum(part["cells"].values()) for part in parts) == sum(SIZES[p] for p in BUILT)


def test_on_two_ranks_both_ranks_build_cells(runs):
    output = runs[2][0]
    distribution = json.loads((output / "distribution.json").read_text())
    assert distribution["ranks"] == 2
    first, second = (set(gids) for gids in distribution["gids_by_rank"])
    assert first and second and not first & second
    offsets = dict(line.split("::") for line in
                   (output / "populations_offset.dat").read_text().split())
    ranges = {p: range(int(offsets[p]), int(offsets[p]) + SIZES[p]) for p in SIZES}
    assert first | second == {gid for p in BUILT for gid in ranges[p]}
    for population in BUILT:
        assert first & set(ranges[population]) and second & set(ranges[population]), population
        # round-robin per population, as the reference does it: each one's nodes 0, 2, 4 ...
        # on rank 0, whatever the populations before it hold
        assert sorted(first & set(ranges[population])) == list(ranges[population])[::2], \
            population
    summary = json.loads((output / "run_summary.json").read_text())
    assert summary["cells_per_rank"] == [len(first), len(second)]


def test_allen_and_point_cells_fire_only_through_the_cross_family_edges(tmp_path):
    """Control: without the ours -> allen and allen -> point weights, the replay alone (and
    the rest of the circuit) leaves those two families silent, so the test above can fail."""
    control = build_mixed_circuit(tmp_path, weight_scale={"ours__allen__chemical": 0.0,
                                                          "allen__point__chemical": 0.0})
    output = tmp_path / "out"
    assert_ok(run_neurodamus([control.simulation_config, "--output-path", output,
                              "--no-progress"], timeout=120))
    spikes = _spikes(output)
    silent = np.zeros(0)
    assert spikes.get("allen", (silent,))[0].size == 0
    assert spikes.get("point", (silent,))[0].size == 0
    assert spikes["ours"][0].size > 0 and spikes["cortex"][0].size > 0
