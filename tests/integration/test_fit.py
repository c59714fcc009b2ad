"""`neurodamus fit` end to end on the two-cell circuit of testing/fit_circuits.py (two cells,
a gap junction, a chemical synapse each way, current pulses and a step): the recordings of
its true parameters are the target.

- a candidate built after others in the same process runs bit for bit as in a fresh one;
- a fit started 50 % away recovers the parameters (a small budget here; ci/fit-recovery
  runs the four-parameter and the E/I network fits);
- the same spec and seed give the same best parameters on 1 and 2 ranks, and 2 ranks share
  the candidates;
- a fit stopped by SIGTERM resumes from its checkpoint to the same result;
- a spec naming what the simulation config lacks stops with one error line.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import MPIEXEC, assert_ok, assert_one_error, run_mpi_script, run_neurodamus

from neurodamus.testing.fit_circuits import (
    TWO_CELL_TRUTH,
    build_two_cell,
    run_truth,
    two_cell_parameters,
    write_spec,
)

pytestmark = pytest.mark.mpi
SCRIPT = Path(__file__).parent / "scripts" / "fit_rebuild.py"
AWAY = {"weight": 1.5, "tau_d": 0.5, "g_pas": 1.5, "amp": 0.5, "gap": 1.5}  # start 50 % off the truth


@pytest.fixture(scope="module")
def two_cell(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fit_two_cell")
    config = build_two_cell(directory)
    truth = run_truth(config, two_cell_parameters(), TWO_CELL_TRUTH, directory)
    return directory, config, truth / "soma_v.h5"


def _spec(two_cell, name, optimiser, parameters=None, more_targets=(), **extra) -> Path:
    directory, config, target = two_cell
    chosen = [dict(p, initial=TWO_CELL_TRUTH[p["name"]] * AWAY[p["name"]])
              for p in two_cell_parameters() if parameters is None or p["name"] in parameters]
    return write_spec(directory / f"{name}.json", config, chosen,
                      [{"name": "soma", "type": "report", "file": str(target),
                        "report": "soma_v"}, *more_targets],
                      optimiser, output_dir=str(directory / name), **extra)


def _best(output: Path) -> dict:
    return json.loads((output / "best_parameters.json").read_text())


def _history(output: Path) -> list[list[str]]:
    return [line.split(",") for line in (output / "history.csv").read_text().splitlines()[1:]]


def test_a_rebuilt_candidate_runs_as_in_a_fresh_process(two_cell, tmp_path):
    spec = _spec(two_cell, "rebuild", {"method": "nelder-mead", "budget": 1})
    assert_ok(run_mpi_script(SCRIPT, [spec, tmp_path / "after.npz", "0,3,0"], ranks=1))
    assert_ok(run_mpi_script(SCRIPT, [spec, tmp_path / "fresh.npz", "0"], ranks=1))
    after, fresh = np.load(tmp_path / "after.npz"), np.load(tmp_path / "fresh.npz")
    assert not np.array_equal(after["traces_soma_0"], after["traces_soma_1"])  # it differs
    assert np.array_equal(after["traces_soma_0"], after["traces_soma_2"])
    assert np.array_equal(after["traces_soma_2"], fresh["traces_soma_0"])
    assert np.array_equal(after["spikes_pair_2"], fresh["spikes_pair_0"])
    assert int(after["sections_left_0"]) == 0 and int(after["sections_left_2"]) == 0


def test_a_fit_from_fifty_percent_away_recovers_the_parameters(two_cell):
    spec = _spec(two_cell, "recover", {"method": "nelder-mead", "budget": 40},
                 parameters=("g_pas", "amp"))
    assert_ok(run_neurodamus(["fit", spec], ranks=1))
    output = two_cell[0] / "recover"
    best = _best(output)["parameters"]
    for name, value in best.items():
        assert value == pytest.approx(TWO_CELL_TRUTH[name], rel=0.05), best
    history = _history(output)
    assert len(history) == 40
    start = {p["name"]: p["initial"] for p in json.loads(spec.read_text())["parameters"]}
    assert start == pytest.approx({"g_pas": 1.5e-4, "amp": 0.04})
    for name in ("history.csv", "fitted_simulation_config.json", "run_summary.json",
                 "convergence.png", "best_vs_target.png", "checkpoint.json"):
        assert (output / name).is_file(), name
    fitted = json.loads((output / "fitted_simulation_config.json").read_text())
    assert fitted["inputs"]["step_second"]["amp_start"] == best["amp"]
    assert fitted["conditions"]["modifications"][-1]["section_configure"] == \
        f"basal.g_pas = {best['g_pas']!r}"


@pytest.fixture(scope="module")
def cma_one_rank(two_cell):
    spikes = two_cell[2].parent / "out.h5"  # the truth's: cell 0 fires 4 times in 150 ms
    spec = _spec(two_cell, "cma1", {"method": "cma", "budget": 8, "population": 4,
                                    "seed": 7},
                 more_targets=[{"name": "spikes", "type": "spikes", "file": str(spikes),
                                "weight": 0.1, "tau": 5.0},
                               {"name": "rates", "type": "rates", "rates": {"pair": 4 / 0.3},
                                "weight": 0.1}])
    assert_ok(run_neurodamus(["fit", spec], ranks=1))
    return spec, two_cell[0] / "cma1"


def test_the_same_seed_gives_the_same_fit_on_one_and_two_ranks(two_cell, cma_one_rank):
    spec, one = cma_one_rank
    two = two_cell[0] / "cma2"
    assert_ok(run_neurodamus(["fit", spec, "--output-path", two], ranks=2))
    assert _best(one) == _best(two)
    assert set(_best(one)["losses"]) == {"soma", "spikes", "rates"}
    assert [row[5:] for row in _history(one)] == [row[5:] for row in _history(two)]
    groups = [row[2] for row in _history(two)]
    assert groups.count("0") == groups.count("1") == 4  # the two ranks shared the work
    summary = json.loads((two / "run_summary.json").read_text())
    assert (summary["ranks"], summary["groups"], summary["evaluations"]) == (2, 2, 8)


def test_a_fit_stopped_by_sigterm_resumes_to_the_same_result(two_cell, cma_one_rank):
    spec, uninterrupted = cma_one_rank
    output = two_cell[0] / "resumed"
    command = [MPIEXEC, "-n", "1", sys.executable, "-m", "neurodamus", "fit", str(spec),
               "--output-path", str(output)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    checkpoint = output / "checkpoint.json"
    deadline = time.monotonic() + 120
    while not checkpoint.is_file() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "run the same command again to resume" in stdout, stdout + stderr
    saved = len(json.loads(checkpoint.read_text())["evaluations"])
    assert 1 <= saved < 8
    assert_ok(run_neurodamus(["fit", spec, "--output-path", output], ranks=1))
    summary = json.loads((output / "run_summary.json").read_text())
    assert summary["evaluations_resumed"] == saved
    assert summary["evaluations_simulated"] == 8 - saved
    assert _best(output) == _best(uninterrupted)


def test_a_spec_naming_what_the_config_lacks_stops_with_one_line(two_cell):
    directory, config, target = two_cell
    spec = write_spec(directory / "bad.json", config,
                      [{"name": "a", "bounds": [0, 1],
                        "apply": {"input": {"input": "nope", "field": "amp_start"}}}],
                      [{"name": "soma", "type": "report", "file": str(target),
                        "report": "soma_v"}], {"method": "powell", "budget": 3},
                      output_dir=str(directory / "bad"))
    result = run_neurodamus(["fit", spec], ranks=2, timeout=120)
    assert_one_error(result, f"file {spec}", "key 'parameters[0].apply.input.input'",
                     "no input 'nope'")


def test_rank_groups_must_divide_the_ranks(two_cell):
    spec = _spec(two_cell, "groups", {"method": "cma", "budget": 4}, ranks_per_candidate=3)
    result = run_neurodamus(["fit", spec], ranks=2, timeout=120)
    assert_one_error(result, f"file {spec}", "key 'ranks_per_candidate'", "does not divide")
