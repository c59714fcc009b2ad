"""Ending a run that cannot go on: SIGTERM or Ctrl-C (SIGINT), no progress (--timeout), a
rank that failed alone. SIGINT is handled exactly as SIGTERM (below, "SIGTERM" is either):
a clean stop with one line naming the signal, previous outputs left as they were.

Why a watchdog thread: a rank blocked in an MPI or NEURON collective never returns to Python,
so neither a flag nor a Python signal handler can end it. The thread wakes from C-level
signal delivery (`signal.set_wakeup_fd`), needs the GIL only briefly (mpi4py releases it
while it waits), and ends every rank with MPI_Abort, which mpiexec turns into the end of
the whole job.

What it does, checked every POLL seconds:
- SIGTERM with --checkpoint-on-term: nothing but the flag; the run checks it after every
  window (a collective) and saves, then stops cleanly. A second SIGTERM ends it as below.
- SIGTERM without it: the run still stops cleanly if it is in the solver (the same check);
  if, TERM_GRACE seconds later, it has not ended (any other phase, or a blocked rank),
  rank 0 prints `neurodamus: stopped on SIGTERM during phase '<name>'`, discards this
  run's staged outputs and aborts every rank.
- --timeout S: when no phase has finished and no run window has passed for S seconds,
  rank 0 prints `neurodamus: error: no progress for S s in phase '<name>' (--timeout S)`
  and aborts every rank.
- A rank that raised a user error and then waits AGREE_GRACE seconds in `parallel.agree`
  for ranks that never come (they are inside a collective of the phase it left) prints
  its own error and aborts every rank: one message, no hang.
Other ranks act on SIGTERM or --timeout only LATE seconds after rank 0 would have (so rank 0's
abort has normally ended them first: one line), and then print as `neurodamus (rank N):`.
Last resort for --timeout: faulthandler's C thread, which needs no GIL, ends a process
that is still alive FALLBACK seconds later (with a traceback of where it was stuck).
"""

import contextlib
import faulthandler
import os
import select
import signal
import socket
import sys
import threading
import time

POLL = 0.2
TERM_GRACE = 3.0
AGREE_GRACE = 3.0
LATE = 5.0
FALLBACK = 20.0

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_requested: str | None = None  # the name of the first stop signal received


def _handler(signum, frame):
    global _requested
    _requested = _requested or signal.Signals(signum).name


def termination_requested() -> bool:
    return _requested is not None


def stop_signal_name() -> str:
    """The signal that asked the run to stop ('SIGTERM' or 'SIGINT')."""
    return _requested or "SIGTERM"


class Watchdog:
    """One per process: told of progress and of a lone failure by the run, of SIGTERM by the
    signal's wakeup byte; its thread ends every rank when the run cannot (see above)."""

    def __init__(self, rank: int, abort, timeout: float | None = None,
                 act_on_term: bool = True):
        self.rank, self.abort = rank, abort
        self.timeout, self.act_on_term = timeout, act_on_term
        self.phase = "start-up"
        self.last_progress = time.monotonic()
        self.term_at: float | None = None
        self.terms = 0  # SIGTERMs received
        self.failure: tuple[str, float] | None = None
        self.cleanups: list = []
        self.standing_down = False
        self._lock = threading.Lock()
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    def start(self):
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._rearm_fallback()
        threading.Thread(target=self._watch, name="neurodamus-watchdog", daemon=True).start()

    # -- told by the run --------------------------------------------------------------------

    def progress(self, phase: str | None = None):
        if phase is not None:
            self.phase = phase
        self.last_progress = time.monotonic()
        self._rearm_fallback()

    def waiting_with_error(self, message: str | None):
        """parallel.agree: this rank failed with `message` and waits for the others (None:
        they came)."""
        self.failure = None if message is None else (message, time.monotonic())

    def stand_down(self):
        """The run is ending by itself (success or an agreed error): do nothing more."""
        self.standing_down = True
        if self.timeout:
            faulthandler.cancel_dump_traceback_later()

    def _rearm_fallback(self):
        if self.timeout and not self.standing_down:
            faulthandler.dump_traceback_later(self.timeout + FALLBACK, exit=True)

    # -- the thread ------------------------------------------------------------------------

    def _signals(self):
        try:
            ready, _, _ = select.select([self._reader], [], [], POLL)
            if ready:
                received = self._reader.recv(64)
                self.term_signal(sum(received.count(int(s)) for s in STOP_SIGNALS))
        except (OSError, ValueError):
            time.sleep(POLL)

    def term_signal(self, count: int = 1):
        if count:
            self.terms += count
            self.term_at = self.term_at or time.monotonic()

    def _watch(self):
        while not self.standing_down:
            self._signals()
            line = self._due(time.monotonic())
            if line is not None and not self.standing_down:
                self._end(*line)
                return

    def _due(self, now: float):
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
        if self.timeout and now - self.last_progress > self.timeout + late:
            line = (f"neurodamus: error: no progress for {self.timeout:g} s in phase "
                    f"'{self.phase}' (--timeout {self.timeout:g}); stopping all ranks")
            return line, 1, self.rank == 0
        return None

    def _end(self, line: str, code: int, speak: bool):
        with self._lock:
            if not speak:
                line = line.replace("neurodamus:", f"neurodamus (rank {self.rank}):", 1)
            print(line, file=sys.stderr, flush=True)
            for cleanup in self.cleanups:
                with contextlib.suppress(Exception):  # ending anyway
                    cleanup()
            try:
                self.abort(code)
            finally:
                os._exit(code)


_WATCHDOG: Watchdog | None = None


def install_termination_handler(rank: int = 0, abort=None, timeout: float | None = None,
                                act_on_term: bool = True) -> Watchdog:
    """The SIGTERM / SIGINT flag, and (once per process) the watchdog described above."""
    global _WATCHDOG
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _handler)
    if _WATCHDOG is None:
        _WATCHDOG = Watchdog(rank, abort or (lambda code: os._exit(code)), timeout, act_on_term)
        _WATCHDOG.start()
    return _WATCHDOG


def watchdog() -> Watchdog | None:
    return _WATCHDOG


def progress(phase: str | None = None):
    if _WATCHDOG is not None:
        _WATCHDOG.progress(phase)


def on_abort(cleanup):
    """Run `cleanup` (e.g. discard staged outputs) if the watchdog ends the run."""
    if _WATCHDOG is not None:
        _WATCHDOG.cleanups.append(cleanup)


def stand_down():
    if _WATCHDOG is not None:
        _WATCHDOG.stand_down()
