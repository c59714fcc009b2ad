"""SIGTERM, which batch systems send before the time limit: remembered, not acted on at once.

The run checks the flag after every window (with a collective, so all ranks agree) and
then stops cleanly, saving a checkpoint when asked to.
"""

import signal

_requested = False


def _handler(signum, frame):
    global _requested
    _requested = True


def install_termination_handler():
    signal.signal(signal.SIGTERM, _handler)


def termination_requested() -> bool:
    return _requested
