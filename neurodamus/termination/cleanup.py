"""Ending every rank from the watchdog's thread: one line on stderr, this run's clean-up
(e.g. its staged outputs discarded, so the previous outputs stay as they were), then
MPI_Abort, which mpiexec turns into the end of the whole job; os._exit if that returns.

Why the pause before MPI_Abort: mpiexec's proxies kill every process as soon as one aborts,
and may drop what the aborting rank wrote to stderr last but they had not yet forwarded
(seen under load: the run ended with code 1 and no line at all).
"""

import contextlib
import os
import sys
import threading
import time

FORWARD_GRACE = 1.0  # seconds for mpiexec to forward the line (as cli.ABORT_GRACE_SECONDS)


class Ending:
    """The clean-ups registered by the run (`on_abort`) and the one way to end this rank."""

    def __init__(self, rank: int, abort):
        self.rank, self.abort = rank, abort
        self.cleanups: list = []
        self._lock = threading.Lock()

    def end(self, line: str, code: int, speak: bool) -> None:
        """Print `line` (under this rank's name unless `speak`), clean up, abort all ranks."""
        with self._lock:
            if not speak:
                line = line.replace("neurodamus:", f"neurodamus (rank {self.rank}):", 1)
            print(line, file=sys.stderr, flush=True)
            for cleanup in self.cleanups:
                with contextlib.suppress(Exception):  # ending anyway
                    cleanup()
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            time.sleep(FORWARD_GRACE)
            try:
                self.abort(code)
            finally:
                os._exit(code)
