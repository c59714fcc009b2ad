"""Ending every rank from the watchdog's thread: one line on stderr, this run's clean-up
(e.g. its staged outputs discarded, so the previous outputs stay as they were), then
MPI_Abort, which mpiexec turns into the end of the whole job; os._exit if that returns.
"""

import contextlib
import os
import sys
import threading


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
            try:
                self.abort(code)
            finally:
                os._exit(code)
