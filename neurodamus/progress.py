"""The progress line of a run (rank 0): on a terminal, one line rewritten in place; in a log
(stdout redirected to a file, a batch system's output), a log line now and then, so that a
long run does not fill its log with a line per window.

The time left is estimated from the wall time per simulated ms so far; it is shown only once
some simulated time has passed, and is never negative.
"""

import logging
import sys
import time

log = logging.getLogger("neurodamus")
LOG_EVERY_SECONDS = 10.0  # not on a terminal: at most a line this often ...
LOG_EVERY_FRACTION = 0.1  # ... unless the run advanced this much of its length since the last
FINISHED_TOLERANCE = 1e-6  # relative: h.t reaches tstop only up to the rounding of its steps


def time_left(elapsed: float, done: float, total: float) -> float | None:
    """Wall seconds left when `done` of `total` simulated ms took `elapsed` s; None before
    anything was simulated."""
    if done <= 0 or total <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed * (total - done) / done)


def finished(t: float, tstop: float) -> bool:
    """h.t has reached tstop (up to the rounding of its steps)."""
    return t >= tstop - FINISHED_TOLERANCE * max(abs(tstop), 1.0)


def progress_text(t: float, start_time: float, tstop: float, elapsed: float) -> str:
    left = time_left(elapsed, t - start_time, tstop - start_time)
    percent = 100.0 * min(max(t / tstop, 0.0), 1.0) if tstop > 0 else 100.0
    text = f"t = {t:.1f} ms ({percent:.0f}%), wall {elapsed:.1f} s"
    if left is not None and not finished(t, tstop):
        text += f", about {left:.1f} s left"
    return text


class ProgressLine:
    """Call `update(t)` after each window and `finish()` after the run."""

    def __init__(self, start_time: float, tstop: float, stream=None, interactive=None,
                 clock=time.perf_counter):
        self.start_time, self.tstop = start_time, tstop
        self.stream = stream if stream is not None else sys.stdout
        self.interactive = _is_terminal(self.stream) if interactive is None else interactive
        self.clock = clock
        self.started = clock()
        self.width = 0  # of the line on the terminal, to blank what a longer one left
        self.logged_at: tuple[float, float] | None = None  # (wall, t) of the last log line

    def update(self, t: float):
        now = self.clock()
        text = progress_text(t, self.start_time, self.tstop, now - self.started)
        if self.interactive:
            self.stream.write("\r" + text.ljust(self.width))
            self.stream.flush()
            self.width = max(self.width, len(text))
        elif self._due(now, t):
            log.info("  %s", text)
            self.logged_at = (now, t)

    def _due(self, now: float, t: float) -> bool:
        if self.logged_at is None or finished(t, self.tstop):
            return True
        wall, last_t = self.logged_at
        length = self.tstop - self.start_time
        return now - wall >= LOG_EVERY_SECONDS or (t - last_t) >= LOG_EVERY_FRACTION * length

    def finish(self):
        if self.interactive and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False
