"""The run's progress line: rewritten in place on a terminal, log lines otherwise, and a time
left that is never negative and not shown before it can be estimated."""

import io
import logging

from neurodamus.progress import ProgressLine, progress_text, time_left


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_time_left_is_none_before_progress_and_never_negative():
    assert time_left(elapsed=0.0, done=0.0, total=100.0) is None
    assert time_left(elapsed=2.0, done=0.0, total=100.0) is None
    assert time_left(elapsed=2.0, done=25.0, total=100.0) == 6.0
    left = time_left(elapsed=2.0, done=100.0000001, total=100.0)  # past tstop by rounding
    assert left == 0.0 and str(left) == "0.0"  # not -0.0


def test_text_shows_an_estimate_only_while_running():
    assert progress_text(50.0, 0.0, 200.0, 4.0) == "t = 50.0 ms (25%), wall 4.0 s, about 12.0 s left"
    assert progress_text(200.0, 0.0, 200.0, 16.0) == "t = 200.0 ms (100%), wall 16.0 s"
    # h.t after 8000 steps of 0.025 ms falls short of tstop by rounding: finished all the same
    assert progress_text(200.0 - 3e-11, 0.0, 200.0, 16.0) == "t = 200.0 ms (100%), wall 16.0 s"
    assert "left" not in progress_text(0.0, 0.0, 200.0, 0.5)
    # restored at t = 100: the estimate counts only what this run simulated
    assert progress_text(150.0, 100.0, 200.0, 3.0).endswith("about 3.0 s left")


def test_terminal_line_is_rewritten_in_place_and_ends_with_a_newline():
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine(0.0, 100.0, stream=stream, interactive=True, clock=clock)
    for t in (10.0, 20.0, 100.0):
        clock.now += 1.0
        line.update(t)
    line.finish()
    out = stream.getvalue()
    assert out.count("\n") == 1 and out.endswith("\n") and out.count("\r") == 3
    shown = [part.rstrip() for part in out.rstrip("\n").split("\r")[1:]]
    assert shown == ["t = 10.0 ms (10%), wall 1.0 s, about 9.0 s left",
                     "t = 20.0 ms (20%), wall 2.0 s, about 8.0 s left",
                     "t = 100.0 ms (100%), wall 3.0 s"]
    # the shorter last line blanks what the longer one before left on the terminal
    assert len(out.rstrip("\n").split("\r")[-1]) == len(shown[0])


def test_not_a_terminal_logs_the_first_every_tenth_and_the_last(caplog):
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine(0.0, 1000.0, stream=stream, interactive=False, clock=clock)
    with caplog.at_level(logging.INFO, logger="neurodamus"):
        for step in range(1, 101):  # 100 windows of 10 ms, 0.01 s wall each
            clock.now += 0.01
            line.update(10.0 * step)
        line.finish()
    assert stream.getvalue() == ""  # nothing written around the log
    times = [record.getMessage().split()[2] for record in caplog.records]
    assert times == ["10.0"] + [f"{t:.1f}" for t in range(110, 1000, 100)] + ["1000.0"]
    assert not [r for r in caplog.records if "-" in r.getMessage()]


def test_not_a_terminal_logs_at_least_every_ten_seconds(caplog):
    clock = Clock()
    line = ProgressLine(0.0, 1000.0, stream=io.StringIO(), interactive=False, clock=clock)
    with caplog.at_level(logging.INFO, logger="neurodamus"):
        for step in range(1, 6):
            clock.now += 6.0  # a slow run: 1 ms per 6 s
            line.update(float(step))
    assert len(caplog.records) == 3  # t = 1 (first), t = 3 (12 s later), t = 5 (12 s later)
