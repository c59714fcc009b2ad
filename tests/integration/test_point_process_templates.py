"""Point neurons as hoc templates holding an IntFire1 in `pointcell`, with edge populations
of type point_process (NetCons into the artificial cells) and Exp2Syn_synapse (Exp2Syn from
tau1, tau2, erev, conductance), as in the reference simulator's ringtest_allen_v1: the
network gives exactly the spikes of the same network built by hand in plain NEURON, on 1
and 2 ranks, connection overrides included; bad input is one error line each."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_mpi_script, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.point_templates import (
    EDGE_TYPES,
    NO_POINTCELL,
    OVERRIDES,
    SIZES,
    build_point_template_circuit,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

REFERENCE = Path(__file__).parent / "scripts" / "point_templates_reference.py"
TSTOP = 200.0
POPULATIONS = ("pts", "ball")


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    return build_point_template_circuit(tmp_path_factory.mktemp("point_templates"), tstop=TSTOP)


def _sorted(times, ids):
    times, ids = np.asarray(times), np.asarray(ids, np.int64)
    order = np.lexsort((ids, times))
    return times[order], ids[order]


def _spikes(out: Path) -> dict:
    spikes = read_spikes_by_population(out / "out.h5")
    return {p: _sorted(*spikes[p]) for p in POPULATIONS}


def test_point_templates_equal_plain_neuron_on_1_and_2_ranks(network, tmp_path):
    reference_file = tmp_path / "reference.npz"
    assert_ok(run_mpi_script(REFERENCE, [network, reference_file], ranks=1))
    reference = np.load(reference_file)
    expected = {p: _sorted(reference[f"{p}_times"], reference[f"{p}_ids"]) for p in POPULATIONS}
    for population, (_, ids) in expected.items():  # every cell of both families fires
        assert set(ids.tolist()) == set(range(SIZES[population])), population
    for ranks in (1, 2):
        out = tmp_path / f"ranks{ranks}"
        assert_ok(run_neurodamus([network, "--output-path", out, "--no-progress"], ranks=ranks))
        for population, (times, ids) in _spikes(out).items():
            np.testing.assert_array_equal(times, expected[population][0])  # exactly
            np.testing.assert_array_equal(ids, expected[population][1])
        summary = json.loads((out / "run_summary.json").read_text())
        assert summary["synapses"] == 5 * 3 + 5 * 2 + 5 * 2 + 3 * 3 + 3 * 3 + 3 * 1
        assert "pointcell" in summary["cell_engines"]["pts"]
        assert set(summary["synapse_models"]) == set(EDGE_TYPES)
        for name, kind in EDGE_TYPES.items():
            assert summary["synapse_models"][name].startswith(
                "NetCon onto point neuron" if kind == "point_process" else "Exp2Syn"), name


def test_the_overrides_matter(network, tmp_path):
    """The reference's overrides (weight, synapse_delay_override) change the spikes here,
    so the exact match above covers them."""
    plain = build_point_template_circuit(tmp_path / "plain", tstop=TSTOP, overrides=[])
    assert_ok(run_neurodamus([plain, "--output-path", tmp_path / "plain_out", "--no-progress"]))
    assert_ok(run_neurodamus([network, "--output-path", tmp_path / "out", "--no-progress"]))
    with_overrides, without = _spikes(tmp_path / "out"), _spikes(tmp_path / "plain_out")
    for population in POPULATIONS:
        assert not np.array_equal(with_overrides[population][0], without[population][0])


def test_template_without_pointcell_is_one_error(tmp_path):
    config = build_point_template_circuit(tmp_path, tstop=20.0,
                                          point_templates=["NdTestIntFireExc", NO_POINTCELL])
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, "population 'pts'", f"template '{NO_POINTCELL}'",
                     "has no 'pointcell'")


def test_point_process_edges_onto_a_compartmental_cell_are_one_error(tmp_path):
    config = build_point_template_circuit(tmp_path, tstop=20.0)
    circuit = config.parent / "circuit_config.json"
    raw = json.loads(circuit.read_text())
    for entry in raw["networks"]["edges"]:
        if "ball__ball" in entry["populations"]:
            entry["populations"]["ball__ball"]["type"] = "point_process"
    circuit.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, "ball__ball", "point_process edges connect into the target's "
                     "artificial cell", "compartmental cell")


def test_another_modoverride_on_exp2syn_edges_is_one_error(tmp_path):
    overrides = [dict(OVERRIDES[1], modoverride="NdTm")]
    config = build_point_template_circuit(tmp_path, tstop=20.0, overrides=overrides)
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, "connection_overrides[0].modoverride", "'NdTm'", "pts__ball",
                     "Exp2Syn_synapse")


def test_randomized_gaba_rise_time_without_a_gaba_model_is_one_error(tmp_path):
    """As the reference refuses it on its ringtest_allen_v1 (no ProbGABAAB_EMS): these edges
    make NetCons and Exp2Syn, neither with a GABA_A rise time."""
    config = build_point_template_circuit(tmp_path, tstop=20.0)
    raw = json.loads(config.read_text())
    raw.setdefault("conditions", {})["randomize_gaba_rise_time"] = True
    config.write_text(json.dumps(raw))
    result = run_neurodamus([config, "--no-progress"], ranks=2)
    assert_one_error(result, "conditions.randomize_gaba_rise_time",
                     "no synapse model of this circuit has one", "ProbGABAAB_EMS")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
