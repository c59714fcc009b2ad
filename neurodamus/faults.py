"""Fault injection for the fault-tolerance tests: NEURODAMUS_FAULT=<what>:<rank>[:<n>].

- `raise-in-run:R`: rank R raises an internal error after its first run window.
- `kill-in-save:R:N`: rank R kills itself (SIGKILL) in the middle of its N-th checkpoint,
  after writing its part of the state and before the checkpoint is made current.
Unset in normal runs; checked only at those two points, so it costs nothing.
"""

import os
import signal

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
