"""Nothing lost (`mpiexec -n 2`): a run that fails into the directory of a previous run leaves
that run's outputs byte for byte as they were, and no temporary file behind."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MPIEXEC, assert_ok

STAGING = ".neurodamus-partial-"
REPORT = {"type": "compartment", "variable_name": "v", "start_time": 0.0, "end_time": 20.0,
          "dt": 0.025, "sections": "all"}


def snapshot(directory: Path) -> dict:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def with_reports(config: Path, **reports) -> Path:
    raw = json.loads(config.read_text())
    raw["reports"] = reports
    config.write_text(json.dumps(raw))
    return config


def run(config, *extra, fault=None):
    """`mpiexec -n 2 neurodamus CONFIG --no-progress extra...`, with NEURODAMUS_FAULT=fault."""
    env = dict(os.environ, NEURODAMUS_FAULT=fault or "")
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(config),
                           "--no-progress", *map(str, extra)], capture_output=True, text=True,
                          timeout=120, env=env, check=False)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A circuit with a report, run once: (its directory, a snapshot of its outputs)."""
    from test_no_hang import small_config

    directory = tmp_path_factory.mktemp("previous") / "circuit"
    config = with_reports(small_config(directory), voltage={**REPORT, "sections": "soma"})
    assert_ok(run(config))
    outputs = snapshot(directory / "output")
    assert {"out.h5", "voltage.h5", "run_summary.json"} <= set(outputs)
    assert json.loads(outputs["run_summary.json"])["outputs"][-1] == "run_summary.json"
    return directory, outputs


def _bad_config(config):
    with_reports(config, voltage={**REPORT, "variable_name": "no_such_variable"})


def _missing_morphologies(config):
    shutil.rmtree(config.parent / "morphologies")


FAILURES = {  # how the second run fails: (change to the copy, fault, text of the error)
    "config": (_bad_config, None, "no_such_variable"),
    "circuit": (_missing_morphologies, None, "morpholog"),
    "run": (None, "user-error-in:run-window:1", "injected user error"),
    "killed-rank": (None, "kill-in:run-window:1", None),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_failed_run_leaves_the_previous_outputs(previous, tmp_path, failure):
    source, before = previous
    directory = tmp_path / "circuit"
    shutil.copytree(source, directory)
    config = directory / "simulation_config.json"
    change, fault, text = FAILURES[failure]
    if change is not None:
        change(config)
    result = run(config, fault=fault)
    assert result.returncode != 0, result.stdout
    if text is not None:
        errors = [line for line in result.stderr.splitlines()
                  if line.startswith("neurodamus: error:")]
        assert len(errors) == 1 and text in result.stderr, result.stderr
    output = directory / "output"
    after = snapshot(output)
    staged = {name for name in after if name.startswith(STAGING)}
    if failure == "killed-rank":  # nobody could clean up: hidden, named partial, and ...
        assert all(Path(name).parts[0].startswith(STAGING) for name in staged)
    else:
        assert not staged and not list(output.glob(".*")), sorted(after)
    assert {name: data for name, data in after.items() if name not in staged} == before
    if failure == "killed-rank":  # ... removed by the next run, which replaces every output
        assert_ok(run(config))
        assert not list(output.glob(f"{STAGING}*"))
        summary = json.loads((output / "run_summary.json").read_text())
        assert sorted(summary["outputs"]) == sorted(snapshot(output))


def test_output_dir_that_is_a_file_stops_before_the_circuit(previous, tmp_path):
    source, _ = previous
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("x")
    result = run(source / "simulation_config.json", "--output-path", blocker)
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus: error:")]
    assert len(errors) == 1, result.stderr
    assert f"output.output_dir {blocker}" in errors[0] and "is a file" in errors[0]
    assert "circuit " not in result.stdout  # no phase after the output check ran
    assert blocker.read_text() == "x"


@pytest.fixture
def small_disk(tmp_path):
    """A 256 kB tmpfs (needs root; skipped, with the reason, when it cannot be mounted)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def _too_large_report_run(previous, tmp_path, small_disk, fault=None):
    """A run that succeeded on the small disk, then the same with a report of every
    compartment at every step, which cannot fit: (its result, output_dir, the snapshot of
    output_dir before)."""
    source, _ = previous
    directory = tmp_path / "circuit"
    shutil.copytree(source, directory)
    config = with_reports(directory / "simulation_config.json")
    output = small_disk / "output"
    assert_ok(run(config, "--output-path", output))
    before = snapshot(output)
    with_reports(config, voltage=REPORT)  # every compartment, every step: does not fit
    return run(config, "--output-path", output, fault=fault), output, before


def test_disk_full_names_the_file_and_keeps_the_previous_outputs(previous, tmp_path, small_disk):
    # as if another job filled the disk after the checks before the run
    result, output, before = _too_large_report_run(previous, tmp_path, small_disk,
                                                   fault="no-space-check:0")
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"no space left on device writing {output / 'voltage.h5'}" in errors[0]
    assert snapshot(output) == before
    assert not list(output.glob(".*"))


def test_a_report_that_cannot_fit_is_refused_before_the_run(previous, tmp_path, small_disk):
    result, output, before = _too_large_report_run(previous, tmp_path, small_disk)
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "key 'reports.voltage'" in errors[0] and "is free there" in errors[0], errors[0]
    assert f"in {output / 'voltage.h5'}" in errors[0]
    assert "\nrun " not in result.stdout  # refused before the run
    assert snapshot(output) == before
    assert not list(output.glob(".*"))
