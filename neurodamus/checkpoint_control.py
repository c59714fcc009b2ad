"""The checkpoint phase and the run's control: what, besides the window length, decides where
the solver stops and what happens there (checkpoint.py writes and reads the checkpoints).

- `Checkpoints` (the `checkpoint` phase's value): a checkpoint to restore is checked before
  anything runs; during the run it restores right after finitialize and saves at the save
  times, with the spikes recorded so far (those of the restored run included, which rank 0
  keeps for the spike file).
- `run_control`: the RunControl of run.py: restore and save, SIGTERM (stop, and save with
  --checkpoint-on-term), the watchdog's sign of life, and the connections' timed actions.
"""

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from .checkpoint import Checkpointer
from .checkpoint import resolve as resolve_checkpoint
from .faults import inject, inject_in_phase
from .run import RunControl
from .termination import progress
from .termination.signals import termination_requested

log = logging.getLogger("neurodamus")


def run_settings(settings, options):
    """run.tstop shortened to --save-time when the run is to stop and save there."""
    run = settings.run
    if options.save_time is not None and options.save_time < run.tstop:
        return replace(run, tstop=options.save_time)
    return run


def window_hooks(connections) -> list:
    """The connection handlers that act per run window (replay queues its events)."""
    return [handler for handler in connections.keep_alive if hasattr(handler, "before_window")]


class Checkpoints:
    """Check a checkpoint to restore before running anything; prepare saving. All ranks
    build one (the `checkpoint` phase) and call each method."""

    def __init__(self, h, parallel, settings, circuit, cells, mechanism_digests, options):
        self.h, self.parallel, self.options = h, parallel, options
        self.checkpointer = Checkpointer(h, parallel, settings, circuit, cells,
                                         mechanism_digests)
        self.restore_from: Path | None = None
        # The spikes of the run restored from (rank 0), written with this run's.
        self.spikes_before = (np.zeros(0), np.zeros(0, np.int64))
        if options.restore_dir is not None:
            checkpoint = resolve_checkpoint(options.restore_dir)
            manifest = self.checkpointer.check(checkpoint)
            if parallel.is_root:
                self.checkpointer.verify_files(checkpoint, manifest)
            self.restore_from = checkpoint

    def restore(self, reports):
        assert self.restore_from is not None  # run_control installs this only then
        times, gids = self.checkpointer.restore(self.restore_from)
        self.checkpointer.resume_reports(self.restore_from, reports.hooks)
        if self.parallel.is_root:
            self.spikes_before = (times, gids)
            log.info("Restored %s at t = %.3f ms", self.restore_from, self.h.t)

    def save(self, h, reports, connections):
        assert self.options.save_dir is not None  # run_control installs this only then
        parallel = self.parallel
        new_times, new_gids = reports.spikes.local_spikes()
        gathered = parallel.gather((new_times, new_gids))
        so_far = self.spikes_before
        if parallel.is_root:
            so_far = (np.concatenate([so_far[0]] + [t for t, _ in gathered]),
                      np.concatenate([so_far[1]] + [g for _, g in gathered]))
        else:
            so_far = (np.zeros(0), np.zeros(0, np.int64))
        pending = sum(hook.pending_after(h.t) for hook in window_hooks(connections))
        path = self.checkpointer.save(self.options.save_dir, so_far, reports.hooks,
                                      pending_replay=pending, keep=self.options.checkpoint_keep)
        if parallel.is_root:
            log.info("Checkpoint at t = %.3f ms: %s", h.t, path)


def run_control(model, settings, options, parallel) -> RunControl:
    """The RunControl for `model` (a model.Model): its checkpoints, SIGTERM, the connections'
    timed actions (delayed overrides)."""
    checkpoints, reports, connections = model.checkpoints, model.reports, model.connections
    tstop = run_settings(settings, options).tstop

    def window_done():
        progress()
        inject_in_phase("run-window", parallel.rank)  # outside agree: as a bug would be

    def stop_requested() -> bool:
        inject("raise-in-run", parallel.rank)
        return bool(parallel.allreduce_max(int(termination_requested())))

    control = RunControl(stop_requested=stop_requested,
                         save_on_stop=options.checkpoint_on_term,
                         agree=parallel.agree, progress=window_done,
                         actions=tuple(action for handler in connections.keep_alive
                                       for action in getattr(handler, "timed_actions",
                                                             list)()))
    if checkpoints.restore_from is not None:
        control.restore = lambda: checkpoints.restore(reports)
    if options.save_dir is not None:
        times = {tstop}
        if options.checkpoint_every:
            every = options.checkpoint_every
            times.update(every * k for k in range(1, int(tstop / every) + 1))
        control.save_times = tuple(sorted(times))
        control.save = lambda h: checkpoints.save(h, reports, connections)
    return control
