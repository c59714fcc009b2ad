"""The watchdog: a thread that ends every rank when the run cannot end itself.

Why a thread: a rank blocked in an MPI or NEURON collective never returns to Python, so
neither a flag nor a Python signal handler can end it. The thread wakes from C-level
signal delivery (signals.WakeupSocket), needs the GIL only briefly (mpi4py releases it
while it waits), and ends every rank through cleanup.Ending.

What it decides, every POLL seconds (`_due`):
- SIGTERM with --checkpoint-on-term: nothing; the run checks the flag after every window
  (a collective) and saves, then stops cleanly. A second SIGTERM ends it as below.
- SIGTERM without it: the run still stops cleanly if it is in the solver (the same check);
  if, TERM_GRACE seconds later, it has not ended (any other phase, or a blocked rank),
  rank 0 prints `neurodamus: stopped on SIGTERM during phase '<name>'`, discards this
  run's staged outputs and aborts every rank.
- --timeout S: when the heartbeat has not moved for S seconds, rank 0 prints
  `neurodamus: error: no progress for S s in phase '<name>' (--timeout S)` and aborts every
  rank.
- A rank that raised a user error and then waits AGREE_GRACE seconds in `parallel.agree`
  for ranks that never come (they are inside a collective of the phase it left) prints
  its own error and aborts every rank: one message, no hang.
Other ranks act on SIGTERM or --timeout only LATE seconds after rank 0 would have (so rank 0's
abort has normally ended them first: one line), and then print as `neurodamus (rank N):`.
"""

import threading
import time

from .cleanup import Ending
from .heartbeat import Heartbeat
from .signals import WakeupSocket, stop_signal_name

POLL = 0.2
TERM_GRACE = 3.0
AGREE_GRACE = 3.0
LATE = 5.0


class Watchdog:
    """One per process: told of progress (the heartbeat) and of a lone failure by the run,
    of SIGTERM by the signal's wakeup byte; its thread ends every rank when the run cannot."""

    def __init__(self, rank: int, abort, timeout: float | None = None,
                 act_on_term: bool = True):
        self.rank, self.timeout, self.act_on_term = rank, timeout, act_on_term
        self.heartbeat = Heartbeat(timeout)
        self.ending = Ending(rank, abort)
        self.term_at: float | None = None
        self.terms = 0  # SIGTERMs received
        self.failure: tuple[str, float] | None = None
        self.standing_down = False
        self._wakeup = WakeupSocket()

    def start(self):
        self._wakeup.install()
        self.heartbeat.rearm_fallback()
        threading.Thread(target=self._watch, name="neurodamus-watchdog", daemon=True).start()

    # -- told by the run --------------------------------------------------------------------

    @property
    def phase(self) -> str:
        return self.heartbeat.phase

    @phase.setter
    def phase(self, name: str) -> None:
        self.heartbeat.phase = name

    @property
    def last_progress(self) -> float:
        return self.heartbeat.last

    @property
    def cleanups(self) -> list:
        return self.ending.cleanups

    def progress(self, phase: str | None = None):
        self.heartbeat.beat(phase)

    def waiting_with_error(self, message: str | None):
        """parallel.agree: this rank failed with `message` and waits for the others (None:
        they came)."""
        self.failure = None if message is None else (message, time.monotonic())

    def stand_down(self):
        """The run is ending by itself (success or an agreed error): do nothing more."""
        self.standing_down = True
        self.heartbeat.stop()

    def term_signal(self, count: int = 1):
        if count:
            self.terms += count
            self.term_at = self.term_at or time.monotonic()

    # -- the thread ------------------------------------------------------------------------

    def _watch(self):
        while not self.standing_down:
            self.term_signal(self._wakeup.stop_signals(POLL))
            line = self._due(time.monotonic())
            if line is not None and not self.standing_down:
                self.ending.end(*line)
                return

    def _due(self, now: float):
        """(line, exit code, whether this rank speaks as rank 0) when the run must end now."""
        late = 0.0 if self.rank == 0 else LATE
        if self.failure is not None and now - self.failure[1] > AGREE_GRACE + 0.5 * self.rank:
            return f"neurodamus: error: {self.failure[0]}", 1, True
        acting = self.act_on_term or self.terms > 1
        if self.term_at is not None and acting and now - self.term_at > TERM_GRACE + late:
            name = stop_signal_name()
            why = (f"a second {name}: no checkpoint saved" if not self.act_on_term else
                   "no checkpoint: give --save DIR --checkpoint-on-term")
            line = f"neurodamus: stopped on {name} during phase '{self.phase}' ({why})"
            return line, 1, self.rank == 0
        if self.timeout and self.heartbeat.silent_for(now) > self.timeout + late:
            line = (f"neurodamus: error: no progress for {self.timeout:g} s in phase "
                    f"'{self.phase}' (--timeout {self.timeout:g}); stopping all ranks")
            return line, 1, self.rank == 0
        return None
