"""The phases of a simulation, in order, each timed: options -> output -> circuit ->
mechanisms -> balance -> circuit data -> cells -> modifications -> synapses, gap junctions,
connections -> stimuli -> reports -> checkpoint -> run -> outputs (docs/architecture.md has
the table of every `_phase` call, what it takes and what it gives). Settings come in already
validated.

Every phase that can fail on user data runs through `parallel.agree`, so a problem found
on one rank stops all ranks together with one message.
"""

import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import libsonata
import numpy as np

from .balance import LB_MODES
from .balance.assign import local_gids
from .cell_state import CellStateDump, check_gids
from .cells import engine_for
from .cells.engines import model_type_groups
from .checkpoint import Checkpointer
from .checkpoint import resolve as resolve_checkpoint
from .circuit import open_circuit
from .connectivity import (
    connect_gap_junction_halves,
    connect_rest,
    connect_synapses,
    synapse_models_by_population,
)
from .dry_run import estimate_memory
from .errors import NeurodamusError
from .faults import inject, inject_in_phase
from .mechanisms import (
    PREBUILT_ENV,
    build_mechanisms,
    default_cache_dir,
    defined_mechanisms,
    load_mechanisms,
    mechanism_sources,
    prebuilt_library,
    source_digests,
)
from .model_stats import model_stats
from .modifications import apply_modifications
from .outputs import OutputArea, new_run_id, writing
from .preflight import (
    check_output_space,
    check_report_lower_bounds,
    check_restore_target,
    check_save_target,
)
from .reports import setup_reports, write_spikes
from .run import RunControl, check_coreneuron_support, prepare_run, run_solver
from .stimuli import attach_inputs
from .termination import on_abort, progress, termination_requested
from .timings import PhaseTimings
from .validation import log_warning_totals
from .validation.circuit import check_circuit_data

log = logging.getLogger("neurodamus")
SUMMARY_FILE = "run_summary.json"
DISTRIBUTION_FILE = "distribution.json"


@dataclass
class SimulationOptions:
    mechanisms_cache: Path | None = None
    mechanism_dirs: tuple[Path, ...] = ()  # --mechanisms: NMODL directories compiled with ours
    progress: bool = True
    report_buffer_mb: float = 8.0  # per rank, per report: recording buffers flushed to disk
    save_dir: Path | None = None  # checkpoint at the end (or at save_time) into this directory
    save_time: float | None = None  # stop and save here instead of at tstop
    checkpoint_every: float | None = None  # also save periodically (needs save_dir)
    checkpoint_keep: int = 1  # how many of the newest checkpoints stay in save_dir
    checkpoint_on_term: bool = False  # on SIGTERM, save (needs save_dir) and stop cleanly
    restore_dir: Path | None = None  # continue from this checkpoint
    lb_mode: str = "RoundRobin"  # RoundRobin | WholeCell | Memory
    num_target_ranks: int | None = None  # only compute a WholeCell assignment for this many
    simulator: str | None = None  # NEURON | CORENEURON (default: the config's target_simulator)
    dry_run: bool = False  # estimate memory per rank instead of running
    dry_run_ranks: int | None = None  # the rank count the dry run estimates for (default: ours)
    dump_cell_state: tuple[int, ...] = ()  # gids whose state is written at start and end
    model_stats: bool = False  # log per-population counts after building (and in the summary)
    simulate: bool = True  # False: build everything, then stop before the run
    cell_permute: int = 0  # CoreNEURON's node ordering (0 unpermuted, 1 node adjacency)


@dataclass
class Summary:
    cells: int = 0
    synapses: int = 0
    spikes: int = 0
    wall_time: float = 0.0
    ranks: int = 1
    output_dir: Path | None = None
    spikes_file: Path | None = None
    cells_per_rank: list = field(default_factory=list)
    early: bool = False  # stopped after balancing or the dry run: nothing was simulated


class Simulation:
    def __init__(self, settings, parallel, options: SimulationOptions | None = None):
        self.settings = settings
        self.parallel = parallel
        self.options = options or SimulationOptions()
        self.timings = PhaseTimings()
        self.cells: list = []  # the cells built on this rank (CellRecord)
        self.stimuli: list = []
        self.synapse_count = 0
        self.outputs: OutputArea | None = None  # where every output is written (outputs.py)

    @property
    def h(self):
        from neuron import h
        return h

    def _phase(self, name, function, *args):
        progress(name)
        with self.timings.phase(name):
            result = self.parallel.agree(self._injected, name, function, *args)
        progress()
        if self.parallel.is_root:
            _, wall, memory = self.timings.phases[-1]
            log.info("%-12s %8.3f s  %8.1f MB (rank 0)", name, wall, memory)
        return result

    def _injected(self, name, function, *args):
        inject_in_phase(name, self.parallel.rank)
        return function(*args)

    def run(self) -> Summary:
        """All phases; a run that fails leaves the previous outputs as they were."""
        try:
            return self._run_phases()
        except BaseException as error:
            agreed = isinstance(error, NeurodamusError)
            if self.outputs is not None and (self.parallel.is_root or not agreed):
                self.outputs.discard()
            raise

    def _run_phases(self) -> Summary:
        start = time.perf_counter()
        settings, parallel = self.settings, self.parallel
        self._phase("options", self._check_options)
        self._phase("output", self._prepare_output)
        circuit = self.circuit = self._phase("circuit", self._open_circuit)
        self._phase("mechanisms-prebuilt", self._load_prebuilt_mechanisms)
        library = self._phase("mechanisms", self._build_mechanisms)
        if library is not None:
            self._phase("mechanisms-load", load_mechanisms, self.h, library)
        local_gids = self._phase("balance", self._balance, circuit)
        if self.options.num_target_ranks is not None:
            return self._finish_early()
        self._phase("circuit-data", check_circuit_data, settings, circuit, parallel.rank,
                    parallel.size, parallel.is_root)
        self._phase("output-size", self._check_output_size, circuit)
        local_nodes = self._phase("cells-check", self._check_cells, circuit, local_gids)
        if self.options.dry_run:
            self._phase("dry-run", self._dry_run, circuit, local_nodes)
            return self._finish_early()
        self._phase("cells", self._build_cells, local_nodes)
        self._phase("modifications", apply_modifications, settings, circuit, self.cells, self.h,
                    parallel)
        self._phase("distribution", self._check_distribution, circuit)
        self._phase("synapses", self._connect_synapses, circuit)
        log_warning_totals(parallel, self.connections.warnings)  # all ranks agreed: safe
        self._phase("gap-junctions", connect_gap_junction_halves, self.connections, self.settings,
                    self.cells, self.h, self.parallel.pc)
        self._phase("connections", self._connect_rest, circuit)
        self._phase("stimuli", self._attach_stimuli, circuit)
        self.reports = self._phase("reports", self._prepare_reports, circuit)
        self._phase("checkpoint", self._prepare_checkpoints, circuit)
        self._phase("disk-space", self._check_space)
        if self.options.model_stats:
            self.model_stats = self._phase("model-stats", model_stats, self.cells, self.h,
                                           parallel)
        if not self.options.simulate:
            if parallel.is_root:
                log.info("Model built; not simulated (--simulate-model OFF)")
            return self._finish_early()
        self._phase("run", self._run)
        summary = self._phase("outputs", self._write_outputs, circuit)
        summary.wall_time = time.perf_counter() - start
        self._finish(summary)
        return summary

    # -- phases ---------------------------------------------------------------------------

    def _check_options(self):
        options, run = self.options, self.settings.run
        if options.lb_mode not in LB_MODES:
            raise NeurodamusError(f"--lb-mode {options.lb_mode}: choose one of "
                                  f"{', '.join(LB_MODES)}")
        if options.num_target_ranks is not None and options.num_target_ranks < 1:
            raise NeurodamusError("--num-target-ranks must be at least 1")
        if self.simulator == "CORENEURON":
            check_coreneuron_support(self.settings)
        elif options.cell_permute:
            raise NeurodamusError("--cell-permute node-adjacency: cell permutation is only "
                                  "available with CoreNEURON (--simulator CORENEURON)")
        needs_save = [name for name, value in (("--save-time", options.save_time),
                                               ("--checkpoint-every", options.checkpoint_every),
                                               ("--checkpoint-on-term", options.checkpoint_on_term))
                      if value and options.save_dir is None]
        if needs_save:
            raise NeurodamusError(f"{', '.join(needs_save)} need(s) --save DIR")
        if options.save_time is not None and not 0 < options.save_time <= run.tstop:
            raise NeurodamusError(f"--save-time {options.save_time} must be in (0, run.tstop = "
                                  f"{run.tstop}]")
        if options.checkpoint_every is not None and not options.checkpoint_every > 0:
            raise NeurodamusError(f"--checkpoint-every {options.checkpoint_every} must be positive")
        if options.checkpoint_keep < 1:
            raise NeurodamusError(f"--checkpoint-keep {options.checkpoint_keep} must be at least 1")
        if options.restore_dir is not None:
            check_restore_target(options.restore_dir)
        if options.save_dir is not None:
            check_save_target(options.save_dir)

    def _prepare_output(self):
        """Before the circuit is opened: output_dir exists and takes files (one message if
        not), and this run's staging directory is made; see outputs.py."""
        run_id = self.parallel.bcast(new_run_id() if self.parallel.is_root else None)
        area = OutputArea(self.settings.output.output_dir, run_id, self.settings.config_file)
        self.parallel.on_root_then_share(area.prepare)
        self.outputs = area
        on_abort(area.discard)

    @property
    def area(self) -> OutputArea:
        """The run's OutputArea (made by the `output` phase): ask it for every output path."""
        if self.outputs is None:
            raise RuntimeError("outputs are written only after the output phase")
        return self.outputs

    def _open_circuit(self):
        node_sets = libsonata.NodeSets(self.settings.node_sets_json)
        return open_circuit(self.settings, node_sets)

    def _balance(self, circuit):
        gids = circuit.target_gids(self.settings.node_set)
        if gids.size == 0:
            raise NeurodamusError(f"node set '{self.settings.node_set}' selects no cells to "
                                  "simulate")
        self.target_count = int(gids.size)
        if self.options.dump_cell_state:
            check_gids(self.options.dump_cell_state, gids)
        self.target_checksum = (int(gids.sum()), int((gids.astype(object) ** 2).sum()))
        n_ranks = self.options.num_target_ranks or self.parallel.size
        lb_mode = "WholeCell" if self.options.num_target_ranks else self.options.lb_mode
        mine, self.imbalance = local_gids(self.h, self.parallel, self.settings, circuit, gids,
                                          lb_mode, n_ranks, self._cache_dir())
        return mine

    def _cache_dir(self) -> Path:
        return Path(self.options.mechanisms_cache or default_cache_dir()).parent

    @property
    def simulator(self) -> str:
        return self.options.simulator or self.settings.target_simulator

    def _load_prebuilt_mechanisms(self):
        """NRNMECH_LIB_PATH: the user's own compiled library, loaded as it is."""
        self.prebuilt_names: set[str] = set()
        self.mechanism_digests: dict[str, str] = {}  # mod file -> code digest (checkpoints)
        library = prebuilt_library()
        if library is not None:
            load_mechanisms(self.h, library)
            self.prebuilt_names = defined_mechanisms(self.h)
            if self.parallel.is_root:
                log.info("Mechanisms from %s=%s", PREBUILT_ENV, library)

    def _build_mechanisms(self):
        directories = (*self.settings.circuit.mechanisms_dirs, *self.options.mechanism_dirs)
        sources = mechanism_sources(directories, skip_names=self.prebuilt_names)
        self.mechanism_digests = source_digests(sources)
        if not sources:
            return None
        return self.parallel.on_root_then_share(build_mechanisms, sources,
                                                self.options.mechanisms_cache,
                                                self.simulator == "CORENEURON")

    def _dry_run(self, circuit, local_nodes):
        self.dry_run_estimate = estimate_memory(
            self.h, self.parallel, self.settings, circuit, self.options.dry_run_ranks,
            output_dir=self.area.staging)

    def _finish_early(self) -> Summary:
        self.parallel.agree(self._commit)
        summary = Summary(cells=self.target_count, ranks=self.parallel.size,
                          output_dir=self.settings.output.output_dir)
        summary.early = True
        return summary

    def _check_cells(self, circuit, local_gids):
        """Per population, its engine checks the local cells (templates load, attributes and
        morphologies exist) before any cell is built."""
        local = []
        self.cell_engines: dict[str, str] = {}  # population -> engine name(s)
        for population in circuit.populations.values():
            end = population.offset + population.size
            mask = (local_gids >= population.offset) & (local_gids < end)
            if not mask.any():
                continue
            node_ids = population.node_ids(local_gids[mask])
            for model_type, positions in model_type_groups(population, node_ids):
                ids = node_ids[positions]
                engine = engine_for(population, population.attributes(
                    ids, ["model_template"])["model_template"], model_type)
                names = [self.cell_engines.get(population.name), engine.name]
                known = dict.fromkeys(n for n in names if n)
                self.cell_engines[population.name] = " + ".join(known)
                local.append((engine, engine.check(population, ids, self.h, self.parallel.pc)))
        return local

    def _build_cells(self, local_nodes):
        for engine, local in local_nodes:
            self.cells.extend(engine.build(local, self.h, self.parallel.pc, self.settings.run,
                                           self.settings.conditions))

    def _check_distribution(self, circuit):
        """Every target cell built exactly once across ranks (catches N serial copies); the
        cell engines of every rank's populations, for the log and summary."""
        engines = {}
        for part in self.parallel.allgather(self.cell_engines):
            engines.update(part)
        self.cell_engines = dict(sorted(engines.items()))
        gids = np.array([c.gid for c in self.cells], dtype=np.int64)
        count = self.parallel.allreduce_sum(int(gids.size))
        sums = self.parallel.allreduce_sum(int(gids.sum()))
        squares = self.parallel.allreduce_sum(int((gids.astype(object) ** 2).sum()))
        if (count, (sums, squares)) != (self.target_count, self.target_checksum):
            raise NeurodamusError(
                f"cell distribution is wrong: {count} cells built over {self.parallel.size} ranks "
                f"for {self.target_count} targets (are the ranks sharing one MPI?)")

    def _connect_synapses(self, circuit):
        self.connections = connect_synapses(self.settings, circuit, self.cells, self.h,
                                            self.parallel.pc)
        self.synapse_count = self.connections.synapses
        self.synapse_models = synapse_models_by_population(self.settings, self.h)
        if self.parallel.is_root:
            for population, engine in sorted(self.cell_engines.items()):
                log.info("Cells of %s: %s", population, engine)
            for population, model in sorted(self.synapse_models.items()):
                log.info("Synapses of %s: %s", population, model)

    def _connect_rest(self, circuit):
        connect_rest(self.connections, self.settings, circuit, self.cells, self.h,
                     self.parallel.pc)

    def _attach_stimuli(self, circuit):
        attach_inputs(self.settings.inputs, circuit, self.cells, self.h, self.settings.run)

    def _prepare_reports(self, circuit):
        return setup_reports(self.settings, circuit, self.cells, self.h, self.parallel,
                             self.options, self.outputs,
                             coreneuron=self.simulator == "CORENEURON")

    def _prepare_checkpoints(self, circuit):
        """Check a checkpoint to restore before running anything; prepare saving."""
        self.checkpointer = Checkpointer(self.h, self.parallel, self.settings, circuit, self.cells,
                                         self.mechanism_digests)
        self.restore_from: Path | None = None
        self.spikes_before = (np.zeros(0), np.zeros(0, np.int64))
        if self.options.restore_dir is not None:
            checkpoint = resolve_checkpoint(self.options.restore_dir)
            manifest = self.checkpointer.check(checkpoint)
            if self.parallel.is_root:
                self.checkpointer.verify_files(checkpoint, manifest)
            self.restore_from = checkpoint

    def _check_output_size(self, circuit):
        """The reports' sizes at one value per cell, before anything is built (rank 0)."""
        if self.parallel.is_root:
            check_report_lower_bounds(self.settings, circuit)

    def _check_space(self):
        options = self.options
        check_output_space(self.h, self.parallel, self.settings, self.reports.hooks,
                           options.save_dir,
                           periodic=bool(options.checkpoint_every))

    def _run_control(self) -> RunControl:
        options, tstop = self.options, self.run_settings.tstop
        control = RunControl(stop_requested=self._stop_requested,
                             save_on_stop=options.checkpoint_on_term,
                             agree=self.parallel.agree, progress=self._window_done,
                             actions=tuple(action for handler in self.connections.keep_alive
                                           for action in getattr(handler, "timed_actions",
                                                                 list)()))
        if self.restore_from is not None:
            control.restore = self._restore
        if options.save_dir is not None:
            times = {tstop}
            if options.checkpoint_every:
                every = options.checkpoint_every
                times.update(every * k for k in range(1, int(tstop / every) + 1))
            control.save_times = tuple(sorted(times))
            control.save = self._save
        return control

    def _restore(self):
        assert self.restore_from is not None  # _run_control installs this only then
        times, gids = self.checkpointer.restore(self.restore_from)
        self.checkpointer.resume_reports(self.restore_from, self.reports.hooks)
        if self.parallel.is_root:
            self.spikes_before = (times, gids)
            log.info("Restored %s at t = %.3f ms", self.restore_from, self.h.t)

    def _save(self, h):
        assert self.options.save_dir is not None  # _run_control installs this only then
        new_times, new_gids = self.spike_recorder.local_spikes()
        gathered = self.parallel.gather((new_times, new_gids))
        so_far = self.spikes_before
        if self.parallel.is_root:
            so_far = (np.concatenate([so_far[0]] + [t for t, _ in gathered]),
                      np.concatenate([so_far[1]] + [g for _, g in gathered]))
        else:
            so_far = (np.zeros(0), np.zeros(0, np.int64))
        pending = sum(hook.pending_after(h.t) for hook in self._window_hooks())
        path = self.checkpointer.save(self.options.save_dir, so_far, self.reports.hooks,
                                      pending_replay=pending, keep=self.options.checkpoint_keep)
        if self.parallel.is_root:
            log.info("Checkpoint at t = %.3f ms: %s", h.t, path)

    def _window_done(self):
        progress()
        inject_in_phase("run-window", self.parallel.rank)  # outside agree: as a bug would be

    def _stop_requested(self) -> bool:
        inject("raise-in-run", self.parallel.rank)
        return bool(self.parallel.allreduce_max(int(termination_requested())))

    @property
    def run_settings(self):
        """run.tstop shortened to --save-time when the run is to stop and save there."""
        run = self.settings.run
        if self.options.save_time is not None and self.options.save_time < run.tstop:
            return replace(run, tstop=self.options.save_time)
        return run

    def _run(self):
        run_settings = self.run_settings
        max_step = prepare_run(self.h, self.parallel.pc, run_settings, self.settings.conditions,
                               coreneuron=self.simulator == "CORENEURON")
        if self.parallel.is_root:
            log.info("Running to %.1f ms on %d ranks (spike exchange every %.3f ms)",
                     run_settings.tstop, self.parallel.size, max_step)
        self.solver_seconds = run_solver(
            self.h, self.parallel.pc, run_settings, self.settings.conditions,
            report_progress=self.options.progress and self.parallel.is_root,
            hooks=[*self._window_hooks(), *self.reports.hooks, *self._cell_state_hooks()],
            control=self._run_control(),
            coreneuron=self.simulator == "CORENEURON",
            cell_permute=self.options.cell_permute)

    def _window_hooks(self) -> list:
        """The connection handlers that act per run window (replay queues its events)."""
        return [handler for handler in self.connections.keep_alive
                if hasattr(handler, "before_window")]

    def _cell_state_hooks(self) -> list:
        """--dump-cell-state: a hook writing the listed local cells' states."""
        if not self.options.dump_cell_state:
            return []
        return [CellStateDump(self.options.dump_cell_state, self.cells, self.area.staging)]

    @property
    def spike_recorder(self):
        return self.reports.spikes

    def _write_outputs(self, circuit) -> Summary:
        self.reports.finalize()
        times, gids = self.spike_recorder.local_spikes()
        gathered = self.parallel.gather((times, gids))
        local_gids = [c.gid for c in self.cells]
        distribution = self.parallel.gather(local_gids)
        synapses = self.parallel.allreduce_sum(self.synapse_count)
        self.synapses_per_rank = self.parallel.gather(self.synapse_count)
        output = self.settings.output
        summary = Summary(cells=self.target_count, synapses=synapses, ranks=self.parallel.size,
                          output_dir=output.output_dir,
                          spikes_file=output.output_dir / output.spikes_file)
        if not self.parallel.is_root:
            return summary
        all_times = np.concatenate([self.spikes_before[0]] + [t for t, _ in gathered])
        all_gids = np.concatenate([self.spikes_before[1]] + [g for _, g in gathered])
        by_population = {}
        for population in circuit.populations.values():
            if population.is_virtual:
                continue
            end = population.offset + population.size
            mask = (all_gids >= population.offset) & (all_gids < end)
            by_population[population.name] = (all_times[mask], population.node_ids(all_gids[mask]))
        staged = self.area
        with writing(staged.path(output.spikes_file)):
            write_spikes(staged.path(output.spikes_file), by_population, output.spikes_sort_order)
        with writing(staged.path("populations_offset.dat")):
            circuit.write_offsets(staged.staging)
        with writing(staged.path(DISTRIBUTION_FILE)):
            staged.path(DISTRIBUTION_FILE).write_text(json.dumps(
                {"ranks": self.parallel.size, "gids_by_rank": distribution}))
        summary.spikes = int(all_times.size)
        summary.cells_per_rank = [len(d) for d in distribution]
        return summary

    def _finish(self, summary: Summary):
        peaks = self.parallel.gather([memory for _, _, memory in self.timings.phases])
        walls = [self.parallel.allreduce_max(wall) for _, wall, _ in self.timings.phases]
        solver = self.parallel.allreduce_max(self.solver_seconds)
        if not self.parallel.is_root:
            self.parallel.agree(self._commit)
            return
        table = self.timings.table(peaks, walls)
        log.info("Timings:\n%s", table)
        record = {
            "cells": summary.cells, "synapses": summary.synapses, "spikes": summary.spikes,
            "ranks": summary.ranks, "cells_per_rank": summary.cells_per_rank,
            "synapses_per_rank": self.synapses_per_rank, "simulator": self.simulator,
            "lb_mode": self.options.lb_mode, "imbalance": self.imbalance,
            "cell_engines": getattr(self, "cell_engines", {}),
            **({"model_stats": self.model_stats} if hasattr(self, "model_stats") else {}),
            "synapse_models": getattr(self, "synapse_models", {}),
            "solver_seconds": solver, "peak_memory_mb_per_rank": [max(p) for p in peaks],
            "wall_time": summary.wall_time, "spikes_file": str(summary.spikes_file),
            "phases": [{"name": name, "wall": walls[i], "peak_memory_mb": max(p[i] for p in peaks)}
                       for i, (name, _, _) in enumerate(self.timings.phases)],
            "outputs": [str(name) for name in self.area.staged_files()] + [SUMMARY_FILE],
        }
        self.parallel.agree(self._commit, record)

    def _commit(self, record: dict | None = None):
        """Rank 0: run_summary.json (the last file written), then every staged output moved
        into place (see outputs.py); collective through agree, so a full disk is one message."""
        if not self.parallel.is_root:
            return
        if record is not None:
            with writing(self.area.path(SUMMARY_FILE)):
                self.area.path(SUMMARY_FILE).write_text(json.dumps(record, indent=2))
        self.area.commit(SUMMARY_FILE)
