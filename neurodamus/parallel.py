"""The only module that talks MPI: start-up, rank and size, collectives, and agreeing on failure.

NEURON's wheel loads MPI at run time from MPI_LIB_NRN_PATH; when that is unset we
point it at the library mpi4py has loaded, so that NEURON and mpi4py share one MPI.
Without it every process would silently run as rank 0 of 1.
"""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import AgreedError, NeurodamusError, ParallelError

if TYPE_CHECKING:
    from mpi4py import MPI

log = logging.getLogger(__name__)
MESSAGES_SHOWN = 3  # distinct failure messages of different ranks shown together


def _loaded_mpi_library() -> str | None:
    """Path of the libmpi shared object mapped into this process (the one mpi4py loaded)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libmpi" in line and "/" in line}
    except OSError:
        return None
    preferred = sorted(p for p in paths if os.path.basename(p).startswith("libmpi.so"))
    candidates = preferred or sorted(paths)
    return candidates[0] if candidates else None


def point_neuron_at_mpi() -> None:
    """Before NEURON is imported (with mpi4py's MPI loaded): NEURON's wheel loads the MPI
    library named by MPI_LIB_NRN_PATH, so point it at mpi4py's unless the user set it; and no
    display on compute nodes. init_parallel calls it; so do plain NEURON scripts (the
    benchmark floor) that must load the same MPI."""
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    if not os.environ.get("MPI_LIB_NRN_PATH"):
        library = _loaded_mpi_library()
        if library:
            os.environ["MPI_LIB_NRN_PATH"] = library


@dataclass
class Parallel:
    """MPI communicator (mpi4py) and NEURON's ParallelContext, created once per process."""

    comm: "MPI.Comm"
    pc: Any  # NEURON's ParallelContext (a hoc object)
    # a duplicate of comm: agreement never matches a phase's collective
    agree_comm: "MPI.Comm | None" = None
    # told when this rank waits in agree with an error (the watchdog, termination/watchdog.py)
    failure_listener: Callable[[str | None], None] | None = None

    @property
    def rank(self) -> int:
        return self.comm.rank

    @property
    def size(self) -> int:
        return self.comm.size

    @property
    def is_root(self) -> bool:
        return self.comm.rank == 0

    def barrier(self):
        self.comm.Barrier()

    def allgather(self, value):
        return self.comm.allgather(value)

    def gather(self, value, root=0):
        return self.comm.gather(value, root=root)

    def bcast(self, value, root=0):
        return self.comm.bcast(value, root=root)

    def allreduce_max(self, value):
        from mpi4py import MPI
        return self.comm.allreduce(value, op=MPI.MAX)

    def allreduce_sum(self, value):
        from mpi4py import MPI
        return self.comm.allreduce(value, op=MPI.SUM)

    def agree(self, function, *args, **kwargs):
        """Run `function` on every rank; if it raises a user error on any rank, raise on all.

        A collective (allgather, on a communicator of its own) decides, so no rank is left
        waiting for one that failed; a rank that failed while the others went on into a
        collective of the phase is ended by the watchdog (termination/), not left waiting.
        """
        failure, result = None, None
        try:
            result = function(*args, **kwargs)
        except NeurodamusError as error:
            failure = str(error)
        if failure is not None and self.failure_listener is not None:
            self.failure_listener(failure)  # the others may never come: see termination/watchdog.py
        failures = (self.agree_comm or self.comm).allgather(failure)
        if failure is not None and self.failure_listener is not None:
            self.failure_listener(None)
        messages = [m for m in failures if m is not None]
        if messages:
            # Ranks usually fail the same way; keep each distinct message once, and only a
            # few of them (e.g. one per node when every node fails).
            distinct = list(dict.fromkeys(messages))
            shown = distinct[:MESSAGES_SHOWN]
            if len(distinct) > MESSAGES_SHOWN:
                shown.append(f"... and {len(distinct) - MESSAGES_SHOWN} more on other ranks")
            raise AgreedError("\n".join(shown))
        return result

    def on_root_then_share(self, function, *args, **kwargs):
        """Run `function` on rank 0 only, then share its result (or its user error) with all."""
        payload = None
        if self.is_root:
            try:
                payload = ("ok", function(*args, **kwargs))
            except NeurodamusError as error:
                payload = ("error", str(error))
        status, value = self.comm.bcast(payload, root=0)
        if status == "error":
            raise AgreedError(value)
        return value

    def abort(self, code: int = 1):
        """End every rank now: for bugs, where other ranks may be inside a collective."""
        self.comm.Abort(code)


_PARALLEL: Parallel | None = None


def init_parallel() -> Parallel:
    """Initialise MPI (mpi4py), then NEURON on the same MPI; idempotent."""
    global _PARALLEL
    if _PARALLEL is not None:
        return _PARALLEL
    from mpi4py import MPI

    point_neuron_at_mpi()
    from neuron import h

    h.nrnmpi_init()
    pc = h.ParallelContext()
    comm = MPI.COMM_WORLD
    if int(pc.nhost()) != comm.size or int(pc.id()) != comm.rank:
        raise ParallelError(
            f"NEURON sees rank {int(pc.id())} of {int(pc.nhost())} but MPI has rank {comm.rank} of "
            f"{comm.size}: NEURON did not load the MPI library "
            f"(MPI_LIB_NRN_PATH={os.environ.get('MPI_LIB_NRN_PATH')!r})")
    _PARALLEL = Parallel(comm=comm, pc=pc, agree_comm=comm.Dup())
    return _PARALLEL
