"""Paths and stops as users have them: a circuit in a folder whose name has spaces and a
non-ASCII letter runs (hoc templates included), and Ctrl-C (SIGINT to the whole foreground
process group, as a terminal sends it) stops a run with one line, leaving the previous
outputs as they were."""

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import MPIEXEC, assert_ok, run_neurodamus

pytestmark = pytest.mark.mpi


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )
    directory = tmp_path_factory.mktemp("paths") / "c with spaces é"
    spec = CircuitSpec(populations=[PopulationSpec("exc", 3, "exc"), PopulationSpec("inh", 1, "inh")],
                       edges=[EdgeSpec("exc", "inh", 2, 1.0)], seed=5)
    circuit = build_circuit(directory, spec)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.5, "delay": 1.0, "duration": 30.0}}
    return write_simulation_config(directory, circuit, tstop=30.0, inputs=inputs, node_set="All")


def test_a_circuit_in_a_folder_with_spaces_and_accents_runs(config):
    result = run_neurodamus([config, "--no-progress"])
    assert_ok(result)
    assert (config.parent / "output" / "out.h5").is_file()


def test_ctrl_c_stops_cleanly_with_one_line(config):
    output = config.parent / "output"
    assert_ok(run_neurodamus([config, "--no-progress"]))
    before = {p.name: p.read_bytes() for p in output.iterdir() if p.is_file()}
    raw = json.loads(config.read_text())
    raw["run"]["tstop"] = 1e6
    long_config = config.parent / "long é.json"
    long_config.write_text(json.dumps(raw, ensure_ascii=False))
    process = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus",
                                str(long_config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().startswith("t = "):
            break
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    text, _ = process.communicate(timeout=60)
    assert process.returncode == 1, text
    lines = [line for line in text.splitlines() if line.startswith("neurodamus")]
    assert len(lines) == 1 and lines[0].startswith("neurodamus: stopped on SIGINT at t = "), text
    assert "Traceback" not in text
    assert {p.name: p.read_bytes() for p in output.iterdir() if p.is_file()} == before
