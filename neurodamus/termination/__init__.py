"""Ending a run that cannot go on: SIGTERM or Ctrl-C (SIGINT), no progress (--timeout), a
rank that failed alone. SIGINT is handled exactly as SIGTERM: a clean stop with one line
naming the signal, previous outputs left as they were.

One module per job: `signals` (the stop flag and the C-level wakeup), `heartbeat` (the
run's sign of life and the faulthandler fallback), `watchdog` (the thread and what it
decides, with the full list of cases), `cleanup` (the one way to end every rank). This
module holds the process's one watchdog and what the run tells it.
"""

import os

from .signals import install_stop_flag
from .watchdog import Watchdog

_WATCHDOG: Watchdog | None = None


def install_termination_handler(rank: int = 0, abort=None, timeout: float | None = None,
                                act_on_term: bool = True) -> Watchdog:
    """The SIGTERM / SIGINT flag, and (once per process) the watchdog."""
    global _WATCHDOG
    install_stop_flag()
    if _WATCHDOG is None:
        _WATCHDOG = Watchdog(rank, abort or (lambda code: os._exit(code)), timeout, act_on_term)
        _WATCHDOG.start()
    return _WATCHDOG


def watchdog() -> Watchdog | None:
    return _WATCHDOG


def progress(phase: str | None = None):
    """A phase began or ended, or a solver window passed (the heartbeat)."""
    if _WATCHDOG is not None:
        _WATCHDOG.progress(phase)


def on_abort(cleanup):
    """Run `cleanup` (e.g. discard staged outputs) if the watchdog ends the run."""
    if _WATCHDOG is not None:
        _WATCHDOG.cleanups.append(cleanup)


def stand_down():
    if _WATCHDOG is not None:
        _WATCHDOG.stand_down()
