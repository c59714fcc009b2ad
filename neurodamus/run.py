"""Phase 8, run: set the conditions, initialise, and advance the solver in windows."""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .coreneuron_support import check_coreneuron_model
from .progress import ProgressLine

log = logging.getLogger("neurodamus")

SECOND_ORDER = {"euler": 0, "crank_nicolson": 1, "crank_nicolson_ion": 2}


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
    - before_window(h, end): before each psolve; `end` is the time h.t will read after it
      (window_end), e.g. to queue the events due by then (replay.SpikeReplay).
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
    - progress(): told after every window (the watchdog's sign of life, termination/heartbeat.py).
    - actions: (time, action()) pairs, the same times on every rank (windows are
      collective). The solver stops at the step boundary nearest each time (a time half
      way between two rounds down) and calls the action there, through agree, before the
      hooks and any save: the events due up to that boundary are delivered before the
      change, the later ones after it. The same under both solvers (CoreNEURON runs no
      Python within a window); it is also the boundary at which NEURON would deliver a
      cvode.event at that time, which differs only for events due between the time and
      the boundary. After a restore at t, the actions due at or before t are called
      again, in order (they set values: calling one twice is harmless).
    """

    restore: Callable | None = None
    save_times: tuple[float, ...] = ()
    save: Callable | None = None
    stop_requested: Callable | None = None
    save_on_stop: bool = False
    agree: Callable | None = None
    progress: Callable | None = None
    actions: tuple[tuple[float, Callable[[], None]], ...] = ()


class RunInterrupted(Exception):
    """The run stopped early on request (e.g. SIGTERM from the batch system)."""

    def __init__(self, time: float, saved: bool):
        self.time, self.saved = time, saved
        super().__init__(f"run stopped at t = {time:.3f} ms")


def _next_stop(t, window, tstop, save_times, dt):
    later = [s for s in save_times if s > t + 0.5 * dt]
    return min([t + window, tstop, *later])


def window_end(t: float, stop: float, dt: float) -> float:
    """The time NEURON's clock reads after psolve(stop) from t: each fixed step adds half a
    step twice (fadvance.cpp), so after n steps t is that sum, not t + n*dt (100 ms of
    0.025 ms steps read 100.00000000001417). The same sum under CoreNEURON, which hands
    its time back."""
    for _ in range(max(0, round((stop - t) / dt))):
        t += 0.5 * dt
        t += 0.5 * dt
    return t


def _reached(t, target, dt) -> bool:
    return abs(t - target) < 0.5 * dt


def _step(t: float, dt: float) -> int:
    return round(t / dt)


class _Actions:
    """RunControl.actions by the step at whose end each is due, in time then given order."""

    def __init__(self, actions, dt: float, agree=None):
        self.dt, self.agree = dt, agree
        ordered = sorted(enumerate(actions), key=lambda item: (item[1][0], item[0]))
        self.pending = [(math.ceil(time / dt - 0.5 - 1e-9), action) for _, (time, action)
                        in ordered]

    def stop_times(self) -> list[float]:
        return [step * self.dt for step, _ in self.pending]

    def run_due(self, t: float):
        reached = _step(t, self.dt)
        while self.pending and self.pending[0][0] <= reached:
            _, action = self.pending.pop(0)
            if self.agree is None:
                action()
            else:
                self.agree(action)


def _enable_coreneuron(h, pc, cell_permute: int):
    """Every psolve from now on runs in CoreNEURON (in-memory transfer), once the model is
    known to be one it can simulate."""
    from neuron import coreneuron as corenrn

    corenrn.enable = True
    corenrn.verbose = 0
    corenrn.cell_permute = cell_permute
    check_coreneuron_model(h, pc)


def _window_length(hooks, h, window: float) -> float:
    """The longest window every hook accepts (a hook's `window` may ask for shorter)."""
    for hook in hooks:
        wanted = getattr(hook, "window", lambda _h: None)(h)
        if wanted:
            window = min(window, wanted)
    return window


def _save_or_stop(h, control: RunControl, dt: float, progress):
    """After a window: the heartbeat, a checkpoint where one is due, and the stop a signal
    asked for (saved first with save_on_stop), which raises RunInterrupted."""
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


def run_solver(h, pc, run_settings, conditions, report_progress: bool, window: float = 100.0,
               hooks=(), control: RunControl | None = None, coreneuron: bool = False,
               cell_permute: int = 0):
    """finitialize (and restore), then psolve to tstop in windows, logging progress on rank 0.
    With `coreneuron`, each psolve runs in CoreNEURON (in-memory transfer), its nodes
    ordered by `cell_permute` (0 as built, 1 by node adjacency). Returns the
    wall seconds spent inside psolve (the solver: the floor of any run's time)."""
    control = control or RunControl()
    dt, tstop = run_settings.dt, run_settings.tstop
    if coreneuron:
        _enable_coreneuron(h, pc, cell_permute)
    h.finitialize(conditions.v_init)
    if control.restore is not None:
        control.restore()
    actions = _Actions(control.actions, dt, control.agree)
    actions.run_due(h.t)  # due at the start (or before the restored time)
    stops = (*control.save_times, *actions.stop_times())
    _call(hooks, "before_run", h, control.agree)
    window = _window_length(hooks, h, window)
    progress = ProgressLine(h.t, tstop) if report_progress else None
    solver_seconds = 0.0
    while h.t < tstop - 0.5 * dt:
        stop = _next_stop(h.t, window, tstop, stops, dt)
        end = window_end(h.t, stop, dt)
        for hook in hooks:
            if hasattr(hook, "before_window"):
                hook.before_window(h, end)
        before = time.perf_counter()
        pc.psolve(stop)
        solver_seconds += time.perf_counter() - before
        if h.t != end:
            log.debug("the window to %.3f ms ended at t = %r, not %r", stop, h.t, end)
        actions.run_due(h.t)
        _call(hooks, "after_window", h, control.agree)
        _save_or_stop(h, control, dt, progress)
        if progress is not None:
            progress.update(h.t)
    if progress is not None:
        progress.finish()
    _call(hooks, "after_run", h, control.agree)
    return solver_seconds
