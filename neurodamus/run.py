"""Phase 8, run: set the conditions, initialise, and advance the solver in windows."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .progress import ProgressLine

log = logging.getLogger("neurodamus")

SECOND_ORDER = {"euler": 0, "crank_nicolson": 1, "crank_nicolson_ion": 2}


def check_coreneuron_support(settings, options):
    """What runs only in NEURON. Nothing at present: frame reports, checkpoints, delayed
    overrides and replay run under both solvers (CoreNEURON's direct mode hands the whole
    state, event queue included, back to NEURON after every psolve)."""
    return None


def prepare_run(h, pc, run_settings, conditions, coreneuron: bool = False):
    """Global NEURON state that the model's initialisation depends on."""
    h.load_file("stdrun.hoc")
    if coreneuron:
        # CoreNEURON takes the model from NEURON's cache-efficient layout.
        h.cvode.cache_efficient(1)
    h.celsius = conditions.celsius
    h.dt = run_settings.dt
    h.steps_per_ms = 1.0 / run_settings.dt
    h.secondorder = SECOND_ORDER[run_settings.integration_method]
    h.cvode.active(0)
    h.tstop = run_settings.tstop
    h.v_init = conditions.v_init
    # The largest step between spike exchanges is the smallest connection delay (all ranks).
    return pc.set_maxstep(10)


class RunHook:
    """Something that acts during the run (reports, checkpoints). All methods optional.

    - before_run(h): after finitialize, before the first step (arm recordings).
    - window(h): the longest stretch (ms) it lets the solver run without calling it, or None.
    - after_window(h): after each window (flush buffers); h.t is the time reached.
    - after_run(h): after tstop.
    """


def _call(hooks, name, h, agree=None):
    """Each hook's `name`; with `agree` (parallel.agree), a user error in one hook on one rank
    stops every rank there, before any rank enters the next hook's collectives."""
    for hook in hooks:
        method = getattr(hook, name, None)
        if method is not None:
            if agree is None:
                method(h)
            else:
                agree(method, h)


@dataclass
class RunControl:
    """What else than the window length decides where the solver stops.

    - restore(): called right after finitialize, to load a checkpoint (sets h.t).
    - save_times: times at which save(h) writes a checkpoint.
    - stop_requested(): asked after every window on every rank (a collective); when true,
      the run saves (if save_on_stop) and raises RunInterrupted.
    - agree(function, *args): parallel.agree, around each hook call (see _call).
    - progress(): told after every window (the watchdog's sign of life, termination.py).
    """

    restore: Callable | None = None
    save_times: tuple[float, ...] = ()
    save: Callable | None = None
    stop_requested: Callable | None = None
    save_on_stop: bool = False
    agree: Callable | None = None
    progress: Callable | None = None


class RunInterrupted(Exception):
    """The run stopped early on request (e.g. SIGTERM from the batch system)."""

    def __init__(self, time: float, saved: bool):
        self.time, self.saved = time, saved
        super().__init__(f"run stopped at t = {time:.3f} ms")


def _next_stop(t, window, tstop, save_times, dt):
    later = [s for s in save_times if s > t + 0.5 * dt]
    return min([t + window, tstop, *later])


def _reached(t, target, dt) -> bool:
    return abs(t - target) < 0.5 * dt


def run_solver(h, pc, run_settings, conditions, report_progress: bool, window: float = 100.0,
               hooks=(), control: RunControl | None = None, coreneuron: bool = False):
    """finitialize (and restore), then psolve to tstop in windows, logging progress on rank 0.
    With `coreneuron`, each psolve runs in CoreNEURON (in-memory transfer). Returns the
    wall seconds spent inside psolve (the solver: the floor of any run's time)."""
    control = control or RunControl()
    if coreneuron:
        from neuron import coreneuron as corenrn

        corenrn.enable = True
        corenrn.verbose = 0
    dt, tstop = run_settings.dt, run_settings.tstop
    h.finitialize(conditions.v_init)
    if control.restore is not None:
        control.restore()
    _call(hooks, "before_run", h, control.agree)
    for hook in hooks:
        wanted = getattr(hook, "window", lambda _h: None)(h)
        if wanted:
            window = min(window, wanted)
    progress = ProgressLine(h.t, tstop) if report_progress else None
    solver_seconds = 0.0
    while h.t < tstop - 0.5 * dt:
        before = time.perf_counter()
        pc.psolve(_next_stop(h.t, window, tstop, control.save_times, dt))
        solver_seconds += time.perf_counter() - before
        _call(hooks, "after_window", h, control.agree)
        if control.progress is not None:
            control.progress()
        if control.save and any(_reached(h.t, s, dt) for s in control.save_times):
            control.save(h)
        if control.stop_requested is not None and control.stop_requested():
            if control.save_on_stop and control.save:
                control.save(h)
            if progress is not None:
                progress.finish()
            raise RunInterrupted(h.t, saved=control.save_on_stop)
        if progress is not None:
            progress.update(h.t)
    if progress is not None:
        progress.finish()
    _call(hooks, "after_run", h, control.agree)
    return solver_seconds
