"""The output area (outputs.py) and the watchdog's decisions (termination/watchdog.py), without MPI."""

import errno
import json

import pytest

from neurodamus.outputs import STAGING_PREFIX, OutputArea, OutputError, final_name, writing
from neurodamus.termination.watchdog import AGREE_GRACE, LATE, TERM_GRACE, Watchdog


def previous_run(directory):
    directory.mkdir()
    (directory / "out.h5").write_bytes(b"old spikes")
    (directory / "run_summary.json").write_text(json.dumps({"outputs": ["out.h5"]}))


def test_staged_outputs_replace_the_previous_ones_only_at_commit(tmp_path):
    output = tmp_path / "output"
    previous_run(output)
    area = OutputArea(output, "1")
    area.prepare()
    area.path("out.h5").write_bytes(b"new spikes")
    area.path("reports/v.h5").write_bytes(b"report")
    area.path("run_summary.json").write_text("{}")
    assert (output / "out.h5").read_bytes() == b"old spikes"  # nothing replaced yet
    area.commit("run_summary.json")
    assert (output / "out.h5").read_bytes() == b"new spikes"
    assert (output / "reports" / "v.h5").read_bytes() == b"report"
    assert area.committed == ["out.h5", "reports/v.h5", "run_summary.json"]  # summary last
    assert sorted(p.name for p in output.iterdir()) == ["out.h5", "reports", "run_summary.json"]


def test_discard_leaves_the_previous_outputs_and_the_next_run_removes_stale_staging(tmp_path):
    output = tmp_path / "output"
    previous_run(output)
    killed = OutputArea(output, "killed")
    killed.prepare()
    killed.path("out.h5").write_bytes(b"half")  # a killed run: nobody discards this
    area = OutputArea(output, "2")
    area.prepare()
    assert not killed.staging.exists() and area.staging.name == f"{STAGING_PREFIX}2"
    area.path("out.h5").write_bytes(b"never complete")
    area.discard()
    assert sorted(p.name for p in output.iterdir()) == ["out.h5", "run_summary.json"]
    assert (output / "out.h5").read_bytes() == b"old spikes"


def test_output_dir_that_is_a_file_or_not_writable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    expected = f"output.output_dir {blocker} \\(config c.json\\) is a file"
    with pytest.raises(OutputError, match=expected):
        OutputArea(blocker, "1", "c.json").prepare()
    with pytest.raises(OutputError, match="is not writable"):
        OutputArea(blocker / "below", "1").prepare()


def test_write_errors_name_the_final_file(tmp_path):
    staged = tmp_path / f"{STAGING_PREFIX}7" / "voltage.h5"
    assert final_name(staged) == tmp_path / "voltage.h5"
    expected = f"^no space left on device writing {tmp_path / 'voltage.h5'}$"
    with pytest.raises(OutputError, match=expected):
        with writing(staged):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OutputError, match="no space left on device"):
        with writing(staged):  # h5py's way of saying it when it flushes
            raise RuntimeError("Can't flush (file write failed: errno = 28, error message = ...)")
    with pytest.raises(RuntimeError, match="unrelated"):
        with writing(staged):
            raise RuntimeError("unrelated")


def watchdog(rank=0, timeout=None, act_on_term=True):
    dog = Watchdog(rank, abort=None, timeout=timeout, act_on_term=act_on_term)
    dog.phase = "cells"
    return dog


def test_watchdog_ends_a_run_that_makes_no_progress():
    dog = watchdog(timeout=10)
    start = dog.last_progress
    assert dog._due(start + 9) is None
    line, code, speak = dog._due(start + 10.5)
    assert line == ("neurodamus: error: no progress for 10 s in phase 'cells' (--timeout 10); "
                    "stopping all ranks") and code == 1 and speak
    other = watchdog(rank=1, timeout=10)  # later, and under its own name
    assert other._due(other.last_progress + 10.5) is None
    assert other._due(other.last_progress + 10.5 + LATE)[2] is False


def test_watchdog_on_sigterm_and_on_a_lone_failure():
    dog = watchdog()
    dog.term_signal()
    assert dog._due(dog.term_at + TERM_GRACE - 1) is None
    assert "stopped on SIGTERM during phase 'cells'" in dog._due(dog.term_at + TERM_GRACE + 1)[0]
    saving = watchdog(act_on_term=False)  # --checkpoint-on-term: the run saves, then stops
    saving.term_signal()
    assert saving._due(saving.term_at + 60) is None
    saving.term_signal()  # a second SIGTERM: stop now
    assert "a second SIGTERM" in saving._due(saving.term_at + TERM_GRACE + 1)[0]
    lone = watchdog(rank=3)
    lone.waiting_with_error("population 'exc': bad template")
    since = lone.failure[1]
    assert lone._due(since + 1) is None
    assert lone._due(since + AGREE_GRACE + 2) == (
        "neurodamus: error: population 'exc': bad template", 1, True)
    lone.waiting_with_error(None)  # the others came: agreed as usual
    assert lone._due(since + 60) is None
