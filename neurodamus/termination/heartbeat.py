"""The run's sign of life: the phase it is in and when it last moved on (a phase finished, a
solver window passed), which the watchdog's --timeout compares against.

The last resort lives here too: faulthandler's C thread, which needs no GIL, ends a process
that is still alive FALLBACK seconds after the timeout (with a traceback of where it was
stuck), in case even the watchdog's thread cannot run. Every beat pushes it back.
"""

import faulthandler
import time

FALLBACK = 20.0


class Heartbeat:
    def __init__(self, timeout: float | None = None):
        self.timeout = timeout
        self.phase = "start-up"
        self.last = time.monotonic()
        self.stopped = False

    def beat(self, phase: str | None = None) -> None:
        if phase is not None:
            self.phase = phase
        self.last = time.monotonic()
        self.rearm_fallback()

    def rearm_fallback(self) -> None:
        if self.timeout and not self.stopped:
            faulthandler.dump_traceback_later(self.timeout + FALLBACK, exit=True)

    def stop(self) -> None:
        """The run ends by itself: no fallback."""
        self.stopped = True
        if self.timeout:
            faulthandler.cancel_dump_traceback_later()

    def silent_for(self, now: float) -> float:
        return now - self.last
