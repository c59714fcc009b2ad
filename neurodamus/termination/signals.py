"""The stop signals: SIGTERM (a batch system's warning) and SIGINT (Ctrl-C), handled alike.

Two ways in, because a rank may be where Python never runs again: a Python handler sets a
flag that the run reads after every solver window (`termination_requested`), and the same
signal writes a wakeup byte (`signal.set_wakeup_fd`, at C level) into a socket the
watchdog's thread reads (`WakeupSocket`), so the watchdog learns of it also while the main
thread is blocked in MPI or NEURON.
"""

import select
import signal
import socket
import time

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_requested: str | None = None  # the name of the first stop signal received


def _handler(signum, frame):
    global _requested
    _requested = _requested or signal.Signals(signum).name


def install_stop_flag() -> None:
    """SIGTERM and SIGINT set the flag instead of ending the process."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _handler)


def termination_requested() -> bool:
    return _requested is not None


def stop_signal_name() -> str:
    """The signal that asked the run to stop ('SIGTERM' or 'SIGINT')."""
    return _requested or "SIGTERM"


class WakeupSocket:
    """The C-level trace of every signal: a byte per signal number, read by another thread."""

    def __init__(self):
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    def install(self) -> None:
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)

    def stop_signals(self, wait: float) -> int:
        """How many stop signals arrived, waiting up to `wait` seconds for the first."""
        try:
            ready, _, _ = select.select([self._reader], [], [], wait)
            if ready:
                received = self._reader.recv(64)
                return sum(received.count(int(s)) for s in STOP_SIGNALS)
        except (OSError, ValueError):
            time.sleep(wait)
        return 0
