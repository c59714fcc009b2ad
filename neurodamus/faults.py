"""Fault injection for the fault-tolerance tests: NEURODAMUS_FAULT=<what>:<rank>[:<n>].

- `raise-in-run:R`: rank R raises an internal error after its first run window.
- `kill-in-save:R:N`: rank R kills itself (SIGKILL) in the middle of its N-th checkpoint,
  after writing its part of the state and before the checkpoint is made current.
- `user-error-in:PHASE:R`: rank R raises a user error (NeurodamusError) at the start of
  phase PHASE (a name of Simulation.run's phases; `run-window`: after the first run window).
- `hang-in:PHASE:R`: rank R sleeps for ever there instead (what the watchdog must end).
- `kill-in:PHASE:R`: rank R kills itself (SIGKILL) there: nobody can clean up after it.
- `no-space-check:0`: the free-space checks before the run pass whatever is free (as if
  another job filled the disk after them), so that a disk full during the run is tested.
Unset in normal runs; checked only at those points, so it costs nothing.
"""

import os
import signal
import time

_counts: dict[str, int] = {}


def _matches(what: str, rank: int):
    spec = os.environ.get("NEURODAMUS_FAULT", "")
    parts = spec.split(":")
    if len(parts) < 2 or parts[0] != what or int(parts[1]) != rank:
        return None
    _counts[what] = _counts.get(what, 0) + 1
    wanted = int(parts[2]) if len(parts) > 2 else 1
    return _counts[what] == wanted


def inject(what: str, rank: int):
    if not _matches(what, rank):
        return
    if what == "raise-in-run":
        raise RuntimeError("injected fault (NEURODAMUS_FAULT)")
    if what == "kill-in-save":
        os.kill(os.getpid(), signal.SIGKILL)


def inject_in_phase(phase: str, rank: int):
    """`user-error-in:PHASE:R` and `hang-in:PHASE:R` (see the module docstring)."""
    parts = os.environ.get("NEURODAMUS_FAULT", "").split(":")
    if len(parts) != 3 or parts[1] != phase or int(parts[2]) != rank:
        return
    if parts[0] == "user-error-in":
        from .errors import NeurodamusError
        raise NeurodamusError(f"injected user error in phase '{phase}' on rank {rank} "
                              "(NEURODAMUS_FAULT)")
    if parts[0] == "hang-in":
        while True:
            time.sleep(60)
    if parts[0] == "kill-in":
        os.kill(os.getpid(), signal.SIGKILL)


def skipped(check: str) -> bool:
    """`no-<check>:0`: the named check before the run is skipped (see the docstring)."""
    return os.environ.get("NEURODAMUS_FAULT", "").split(":")[0] == f"no-{check}"
