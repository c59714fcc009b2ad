"""The reference neurodamus's options that mean the same here, output.log_file, and one-line
usage errors, through the command line on a small generated network."""

import json
import subprocess
import sys

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus import __version__
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi
TSTOP = 30.0


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """4 exc + 2 inh cells (gids 0-3 and 4-5), a soma report, and a log file."""
    directory = tmp_path_factory.mktemp("cli_options")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 4, "exc"), PopulationSpec("inh", 2, "inh")],
        edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0)], seed=3)
    circuit = build_circuit(directory, spec)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.4, "delay": 5.0, "duration": TSTOP}}
    reports = {"soma_v": {"type": "compartment", "variable_name": "v", "dt": 0.1,
                          "start_time": 0.0, "end_time": TSTOP}}
    path = write_simulation_config(directory, circuit, tstop=TSTOP, inputs=inputs,
                                   node_set="All", reports=reports)
    raw = json.loads(path.read_text())
    raw["output"]["log_file"] = "logs/run.log"
    path.write_text(json.dumps(raw, indent=2))
    return path


def spikes(output):
    population = libsonata.SpikeReader(str(output / "out.h5"))["exc"]
    return sorted(population.get())


def test_version_and_one_line_usage_errors(config):
    version = subprocess.run([sys.executable, "-m", "neurodamus", "--version"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert version.returncode == 0 and version.stdout.strip() == f"neurodamus {__version__}"
    for option, expected in (("--no-such-option", "unrecognized option --no-such-option"),
                             ("--crash-test", "unrecognized option --crash-test (a neurodamus"),
                             ("--lb-mode=MultiSplit", "argument --lb-mode: 'MultiSplit' "
                                                      "(MultiSplit): cells are not split"),
                             ("--cell-permute=node-adjacency", "only available with CoreNEURON"),
                             ("--dump-cell-state=1,x", "give gids and ranges like 1,2,3-6")):
        result = run_neurodamus([config, option], ranks=2)
        lines = result.stderr.splitlines()
        assert result.returncode == 1, (option, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("neurodamus: error: "), result.stderr
        assert expected in lines[0], lines[0]


@pytest.fixture(scope="module")
def parity_run(config):
    """2 ranks with the reference's option names; returns (output dir, stdout)."""
    output = config.parent / "parity"
    result = run_neurodamus([config, "--output-path", output, "--no-progress", "-v",
                             "--model-stats", "--disable-reports", "--dump-cell-state", "1,4-5",
                             "--keep-build", "--coreneuron-direct-mode", "--enable-shm", "ON",
                             "--build-model", "AUTO", "--use-color", "OFF"], ranks=2)
    assert_ok(result)
    return output, result.stdout


def test_log_file_has_rank_0s_lines(parity_run):
    output, stdout = parity_run
    log = (output / "logs" / "run.log").read_text()
    ours = [line for line in stdout.splitlines() if not line.startswith("numprocs=")]  # NEURON's
    assert log.splitlines() == ours
    assert log.startswith("neurodamus on 2 MPI ranks\n")
    assert "Timings:" in log and "Done: 6 cells" in log.splitlines()[-1]


def test_disable_reports_writes_spikes_only(parity_run):
    output, stdout = parity_run
    assert not (output / "soma_v.h5").exists()
    assert "--disable-reports: 1 report(s) not written (soma_v)" in stdout
    assert len(spikes(output)) > 0


def test_accepted_options_say_they_do_nothing(parity_run):
    _, stdout = parity_run
    for line in ("--keep-build: there is no build folder",
                 "--coreneuron-direct-mode: CoreNEURON always runs in direct mode here",
                 "--enable-shm: there is no coreneuron_input folder",
                 "--build-model AUTO: the model is built in every run"):
        assert line in stdout, stdout


def test_model_stats_in_log_and_summary(parity_run):
    output, stdout = parity_run
    summary = json.loads((output / "run_summary.json").read_text())
    stats = summary["model_stats"]["populations"]
    assert {p: row["cells"] for p, row in stats.items()} == {"exc": 4, "inh": 2}
    assert sum(row["synapses"] for row in stats.values()) == summary["synapses"] > 0
    for row in stats.values():
        assert row["segments"] > row["sections"] > row["cells"]  # multi-compartment cells
        assert row["netcons"] >= row["synapses"]  # one NetCon per synapse at least
    assert summary["model_stats"]["netcons"] > sum(r["netcons"] for r in stats.values())
    assert "Model stats:" in stdout and "population" in stdout


def test_dump_cell_state_at_start_and_end(parity_run):
    output, _ = parity_run
    written = sorted(p.name for p in (output / "cell_state").iterdir())
    assert written == sorted(f"{gid}_t{t}.json" for gid in (1, 4, 5) for t in ("0", "30"))
    start = json.loads((output / "cell_state" / "1_t0.json").read_text())
    end = json.loads((output / "cell_state" / "1_t30.json").read_text())
    assert (start["gid"], start["population"], start["node_id"], start["t"]) == (1, "exc", 1, 0.0)
    assert end["t"] == pytest.approx(TSTOP)
    assert [s["id"] for s in start["sections"]] == list(range(len(start["sections"])))
    soma = start["sections"][0]["segments"][0]
    assert soma["v"] == pytest.approx(-65.0) and "hh" in soma["mechanisms"]
    assert 0 < soma["mechanisms"]["hh"]["m_hh"] < 1
    assert end["sections"][0]["segments"][0]["v"] != soma["v"]
    kinds = {p["name"].split("[")[0] for p in start["point_processes"]}
    assert "NdStimCurrentSource" in kinds and len(kinds) > 1  # the step input and synapses
    inh = json.loads((output / "cell_state" / "4_t0.json").read_text())
    assert (inh["population"], inh["node_id"]) == ("inh", 0)


def test_memory_balance_gives_the_same_spikes(config, parity_run):
    output = config.parent / "memory"
    result = run_neurodamus([config, "--output-path", output, "--no-progress",
                             "--lb-mode", "Memory"], ranks=2)
    assert_ok(result)
    assert "Memory assignment for 2 ranks" in result.stdout
    distribution = json.loads((output / "distribution.json").read_text())["gids_by_rank"]
    assert sorted(g for rank in distribution for g in rank) == list(range(6))
    assert all(len(rank) > 0 for rank in distribution)
    assert json.loads((output / "run_summary.json").read_text())["lb_mode"] == "Memory"
    np.testing.assert_array_equal(spikes(output), spikes(parity_run[0]))


def test_simulate_model_off_builds_and_stops(config):
    output = config.parent / "built_only"
    result = run_neurodamus([config, "--output-path", output, "--simulate-model", "OFF"], ranks=1)
    assert_ok(result)
    assert "Model built; not simulated (--simulate-model OFF)" in result.stdout
    assert "stimuli" in result.stdout and "Running to" not in result.stdout
    assert not (output / "out.h5").exists()


def test_error_line_in_the_log_file(config):
    output = config.parent / "failed"
    result = run_neurodamus([config, "--output-path", output, "--dump-cell-state", "2,99"],
                            ranks=2)
    message = assert_one_error(result, "--dump-cell-state: gid(s) 99 not simulated")
    log = (output / "logs" / "run.log").read_text().splitlines()
    assert log[0] == "neurodamus on 2 MPI ranks"
    assert log[-1] == message.strip().splitlines()[0]
