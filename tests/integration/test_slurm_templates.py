"""configs/slurm/: the batch templates run locally by bash, `srun` replaced by `mpiexec` (LAUNCH)
and `sbatch` by a recorder (SUBMIT). A long run stopped by SIGTERM checkpoints, resubmits
itself and its continuation ends with the spikes of one uninterrupted run. Fake srun, sbatch and
scontrol on PATH show the commands the templates give Slurm by default."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import MPIEXEC, REPOSITORY, assert_ok

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

SLURM = REPOSITORY / "configs" / "slurm"
TSTOP = 400.0
NEURODAMUS = f"{sys.executable} -m neurodamus"
RECORDER = """#!/usr/bin/env bash
# Record the call (with the chain counter), then run it when asked to.
echo "$(basename "$0") RESUBMIT=${NEURODAMUS_RESUBMIT:-} $*" >> "%(log)s"
if [ "$(basename "$0")" = submit ]; then exec bash "$@"; fi
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    directory = tmp_path_factory.mktemp("slurm")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 4, "exc"), PopulationSpec("inh", 2, "inh")],
        edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0)], seed=7)
    circuit = build_circuit(directory, spec)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.4, "delay": 5.0, "duration": TSTOP}}
    return write_simulation_config(directory, circuit, tstop=TSTOP, inputs=inputs, node_set="All")


def tools(directory: Path, *names) -> Path:
    """Executables that append their name and arguments to directory/calls.log (`submit`
    also runs its arguments with bash, as a queue that starts the job at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        tool = directory / name
        tool.write_text(RECORDER % {"log": directory / "calls.log"})
        tool.chmod(0o755)
    return directory


def calls(directory: Path) -> list[str]:
    log = directory / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def environment(**values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "NEURODAMUS_RES"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return {**env, "NEURODAMUS": NEURODAMUS, **{k: str(v) for k, v in values.items()}}


def sbatch(script, *args, env, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SLURM / script), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


def assert_same_spikes(expected_dir, actual_dir):
    expected = read_spikes_by_population(expected_dir / "out.h5")
    actual = read_spikes_by_population(actual_dir / "out.h5")
    assert sorted(expected) == sorted(actual) == ["exc", "inh"]
    for population, (times, ids) in expected.items():
        np.testing.assert_array_equal(actual[population][0], times)
        np.testing.assert_array_equal(actual[population][1], ids)


@pytest.fixture(scope="module")
def uninterrupted(config):
    output = config.parent / "uninterrupted"
    assert_ok(sbatch("run.sbatch", config, "--output-path", output, "--no-progress",
                     env=environment(LAUNCH=f"{MPIEXEC} -n 2")))
    assert read_spikes_by_population(output / "out.h5")["exc"][0].max() > TSTOP * 0.9
    return output


@pytest.mark.mpi
def test_long_run_checkpoints_on_sigterm_and_its_resubmission_finishes(config, uninterrupted,
                                                                     tmp_path):
    bin_dir = tools(tmp_path / "bin", "submit")
    output = tmp_path / "long"
    job = subprocess.Popen(
        ["bash", str(SLURM / "long-run.sbatch"), str(config), str(output), "--no-progress",
         "--checkpoint-every", "50"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=environment(LAUNCH=f"{MPIEXEC} -n 2", SUBMIT=bin_dir / "submit"))
    deadline = time.monotonic() + 120
    while not (output / "checkpoint" / "LATEST").exists():  # mid-run: the first checkpoint
        assert job.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    launcher = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True)
    os.kill(int(launcher.stdout.split()[0]), signal.SIGTERM)  # as Slurm signals the step
    log, _ = job.communicate(timeout=240)
    assert job.returncode == 0, log
    assert "neurodamus: stopped on SIGTERM" in log
    assert "long-run: stopped before the end; submitting job 1" in log
    assert "long-run: job 1 continues from" in log and "complete after 2 job(s)" in log
    assert calls(bin_dir) == [(f"submit RESUBMIT=1 {SLURM / 'long-run.sbatch'} {config} {output} "
                               "--no-progress --checkpoint-every 50")]
    stopped = float(log.split("stopped on SIGTERM at t = ")[1].split()[0])
    assert 0 < stopped < TSTOP
    assert_same_spikes(uninterrupted, output)
    assert json.loads((output / "run_summary.json").read_text())["spikes"] > 20


@pytest.mark.mpi
def test_dry_run_sizes_the_allocation(config, tmp_path):
    result = sbatch("dry-run.sbatch", config, 64, cwd=tmp_path,
                    env=environment(LAUNCH=f"{MPIEXEC} -n 1", NODE_MEMORY_MB=2000))
    assert_ok(result)
    estimate = json.loads((tmp_path / "dry-run-local" / "dry_run.json").read_text())
    assert estimate["ranks"] == 64 and estimate["max_rank_mb"] > 10
    per_node = int(2000 // estimate["max_rank_mb"])
    nodes = -(-64 // per_node)
    assert (f"at most {per_node} ranks fit in 2000 MB: 64 ranks need {nodes} node(s)"
            in result.stdout), result.stdout
    assert f"sbatch --nodes={nodes} --ntasks=64 configs/slurm/run.sbatch" in result.stdout


def test_default_commands_given_to_slurm(tmp_path):
    """srun, sbatch and scontrol faked: the launcher, the dependency on this job and the
    original script path (not Slurm's copy) in the resubmission."""
    bin_dir = tools(tmp_path / "bin", "srun", "sbatch")
    scontrol = bin_dir / "scontrol"
    scontrol.write_text("#!/bin/sh\necho '   Command=/home/me/long-run.sbatch'\n")
    scontrol.chmod(0o755)
    env = environment(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", SLURM_JOB_ID=41,
                      NEURODAMUS="neurodamus")
    assert_ok(sbatch("run.sbatch", "sim.json", "--verbose", env=env))
    out = tmp_path / "out"
    assert_ok(sbatch("long-run.sbatch", "sim.json", out, "--verbose", env=env))
    (out / "checkpoint").mkdir()
    (out / "checkpoint" / "LATEST").write_text("checkpoint-t50.000\n")
    assert_ok(sbatch("long-run.sbatch", "sim.json", out, env={**env, "NEURODAMUS_RESUBMIT": "3"}))
    checkpoint = out / "checkpoint"
    launch = "--kill-on-bad-exit=1 neurodamus sim.json"
    first = f"{launch} --output-path {out} --save {checkpoint} --checkpoint-on-term"
    resubmit = f"--dependency=afterany:41 /home/me/long-run.sbatch sim.json {out}"
    assert calls(bin_dir) == [f"srun RESUBMIT= {launch} --verbose",
                              f"srun RESUBMIT= {first} --verbose",
                              f"sbatch RESUBMIT=1 {resubmit} --verbose",
                              f"srun RESUBMIT=3 {first} --restore {checkpoint}",
                              f"sbatch RESUBMIT=4 {resubmit}"]


def test_long_run_gives_up_after_max_resubmits(tmp_path):
    bin_dir = tools(tmp_path / "bin", "launch", "submit")
    env = environment(LAUNCH=bin_dir / "launch", SUBMIT=bin_dir / "submit", MAX_RESUBMITS=2,
                      NEURODAMUS_RESUBMIT=2)
    result = sbatch("long-run.sbatch", "sim.json", tmp_path / "out", env=env)
    assert result.returncode == 1
    assert "not complete after 3 job(s) (MAX_RESUBMITS=2)" in result.stderr
    assert [line.split()[0] for line in calls(bin_dir)] == ["launch"]


@pytest.mark.parametrize("script", ["run.sbatch", "long-run.sbatch", "dry-run.sbatch"])
def test_usage_without_arguments(script):
    result = sbatch(script, env=environment())
    assert result.returncode == 2 and result.stderr.startswith("usage: sbatch ")
