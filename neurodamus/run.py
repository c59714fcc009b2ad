"""Phase 8, run: set the conditions, initialise, and advance the solver in windows."""

import logging
import time

log = logging.getLogger("neurodamus")

SECOND_ORDER = {"euler": 0, "crank_nicolson": 1, "crank_nicolson_ion": 2}


def prepare_run(h, pc, run_settings, conditions):
    """Global NEURON state that the model's initialisation depends on."""
    h.load_file("stdrun.hoc")
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


def _call(hooks, name, h):
    for hook in hooks:
        method = getattr(hook, name, None)
        if method is not None:
            method(h)


def run_solver(h, pc, run_settings, conditions, report_progress: bool, window: float = 100.0,
               hooks=()):
    """finitialize, then psolve to tstop in windows, logging progress on rank 0."""
    h.finitialize(conditions.v_init)
    _call(hooks, "before_run", h)
    for hook in hooks:
        wanted = getattr(hook, "window", lambda _h: None)(h)
        if wanted:
            window = min(window, wanted)
    tstop = run_settings.tstop
    start = time.perf_counter()
    while h.t < tstop - 0.5 * run_settings.dt:
        pc.psolve(min(h.t + window, tstop))
        _call(hooks, "after_window", h)
        if report_progress:
            elapsed = time.perf_counter() - start
            fraction = h.t / tstop
            left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
            log.info("  t = %.1f ms (%.0f%%), wall %.1f s, about %.1f s left",
                     h.t, 100 * fraction, elapsed, left)
    _call(hooks, "after_run", h)
