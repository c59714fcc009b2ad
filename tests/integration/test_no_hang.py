"""No hang, ever (`mpiexec -n 2`): a user error on one rank in any phase, a hung rank, and
SIGTERM outside the solver all end every rank within seconds, with one message."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import MPIEXEC, assert_one_error

PHASES = ["options", "output", "circuit", "mechanisms", "balance", "output-size", "cells-check",
          "cells", "modifications", "distribution", "synapses", "gap-junctions", "connections",
          "stimuli", "reports", "checkpoint", "disk-space", "run", "run-window", "outputs"]
LIMIT = 30.0  # seconds every rank has to end


def run_with(config, fault, *extra, timeout=60):
    env = dict(os.environ, NEURODAMUS_FAULT=fault)
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(config),
               "--no-progress", *map(str, extra)]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                            check=False)
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """One small circuit for the module (every run here fails, so they share its output)."""
    return small_config(tmp_path_factory.mktemp("no_hang"))


def small_config(directory):
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )
    spec = CircuitSpec(populations=[PopulationSpec("exc", 4, "exc"),
                                    PopulationSpec("inh", 2, "inh")],
                       edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
                              EdgeSpec("inh", "exc", 2, 1.0)], seed=3)
    step = {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
            "amp_start": 0.4, "delay": 5.0, "duration": 20.0}
    return write_simulation_config(directory, build_circuit(directory, spec), tstop=20.0,
                                   inputs={"step": step}, node_set="All")


@pytest.mark.parametrize("phase", PHASES)
def test_user_error_on_one_rank_ends_every_rank(config, phase):
    result, seconds = run_with(config, f"user-error-in:{phase}:1")
    assert seconds < LIMIT, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert_one_error(result, f"injected user error in phase '{phase}' on rank 1")
    output = config.parent / "output"
    assert not list(output.glob(".neurodamus-partial-*"))  # the staged outputs are gone
    assert not (output / "run_summary.json").exists()


@pytest.mark.parametrize(("where", "phase"), [("cells", "cells"), ("run-window", "run")])
def test_hung_rank_ends_with_timeout(config, where, phase):
    result, seconds = run_with(config, f"hang-in:{where}:1", "--timeout", 3)
    assert seconds < LIMIT, result.stderr
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("neurodamus")]
    expected = (f"neurodamus: error: no progress for 3 s in phase '{phase}' (--timeout 3); "
                "stopping all ranks")
    assert lines == [expected], result.stderr
    assert not list((config.parent / "output").glob(".neurodamus-partial-*"))


def test_sigterm_outside_the_solver_ends_every_rank(config):
    """Rank 1 hangs while building cells (rank 0 waits in the agreement): SIGTERM, which
    mpiexec forwards to both, still ends the run within seconds, without --timeout."""
    env = dict(os.environ, NEURODAMUS_FAULT="hang-in:cells:1")
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(config),
               "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    stopped_in = config.parent / "output"
    try:
        assert process.stdout is not None
        for line in process.stdout:  # rank 0 logs each phase as it ends
            if line.startswith("cells-check"):
                break
        else:
            pytest.fail(f"the run ended early: {process.communicate()}")
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, stderr = process.communicate(timeout=LIMIT)
    finally:
        if process.poll() is None:
            process.kill()
    assert time.monotonic() - started < 15, stderr
    assert process.returncode != 0
    lines = [line for line in stderr.splitlines() if line.startswith("neurodamus")]
    expected = ("neurodamus: stopped on SIGTERM during phase 'cells' (no checkpoint: give "
                "--save DIR --checkpoint-on-term)")
    assert lines == [expected], stderr
    assert not list(stopped_in.glob(".neurodamus-partial-*"))
