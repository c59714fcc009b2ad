"""The phases of a simulation, in order, each timed: options -> output -> circuit ->
mechanisms -> balance -> circuit data -> cells -> modifications -> synapses, gap junctions,
connections -> stimuli -> reports -> checkpoint -> run -> outputs (docs/architecture.md has
the table of every `_phase` call, what it takes and what it gives). Settings come in already
validated.

Each phase's result is a local variable of `run` / `_run_phases`, passed to the phases that
use it: `output` gives the OutputArea, `balance` a Target, the build phases the parts of a
Model (model.py) that `run` and `outputs` take. No phase sets an attribute (the sequence
keeps the Model once built, for `Simulation.model`); checkpoint glue is in
checkpoint_control.py, the writing at the end in run_outputs.py.

Every phase that can fail on user data runs through `parallel.agree`, so a problem found
on one rank stops all ranks together with one message.
"""

import logging
import time
from pathlib import Path

import libsonata
import numpy as np

from .balance import LB_MODES
from .balance.assign import local_gids
from .cell_state import CellStateDump, check_gids
from .cells.engines import build_local_cells, check_local_cells
from .checkpoint_control import Checkpoints, run_control, run_settings, window_hooks
from .circuit import open_circuit
from .connectivity import (
    connect_gap_junction_halves,
    connect_rest,
    connect_synapses,
    synapse_models_by_population,
)
from .coreneuron_support import check_coreneuron_support
from .dry_run import estimate_memory
from .errors import NeurodamusError
from .faults import inject_in_phase
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
from .model import Model, Target
from .model_stats import model_stats
from .modifications import apply_modifications
from .multicycle import check_multicycle, in_cycles, run_in_cycles
from .options import SimulationOptions
from .outputs import OutputArea, new_run_id
from .preflight import (
    check_output_space,
    check_report_lower_bounds,
    check_restore_target,
    check_save_target,
)
from .reports import setup_reports
from .run import prepare_run, run_solver
from .run_outputs import Summary, finish, finish_early, write_outputs
from .stimuli import attach_inputs
from .termination import on_abort, progress
from .timings import PhaseTimings
from .validation import log_warning_totals
from .validation.circuit import check_circuit_data

log = logging.getLogger("neurodamus")
__all__ = ["Simulation", "SimulationOptions", "Summary"]


class Simulation:
    def __init__(self, settings, parallel, options: SimulationOptions | None = None):
        self.settings = settings
        self.parallel = parallel
        self.options = options or SimulationOptions()
        self.timings = PhaseTimings()
        self._model: Model | None = None  # set once, when the build phases are done

    @property
    def model(self) -> Model:
        """What the build phases made on this rank (for callers of the API and tests)."""
        if self._model is None:
            raise RuntimeError("the model exists only once the build phases have run")
        return self._model

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
        start = time.perf_counter()
        made: list[OutputArea] = []  # the output phase's area, also when another rank failed
        try:
            self._phase("options", self._check_options)
            area = self._phase("output", self._prepare_output, made)
            return self._run_phases(area, start)
        except BaseException as error:
            agreed = isinstance(error, NeurodamusError)
            for staged in made:
                if self.parallel.is_root or not agreed:
                    staged.discard()
            raise

    def _run_phases(self, area: OutputArea, start: float) -> Summary:
        settings, parallel, options = self.settings, self.parallel, self.options
        circuit = self._phase("circuit", self._open_circuit)
        prebuilt = self._phase("mechanisms-prebuilt", self._load_prebuilt_mechanisms)
        library, digests = self._phase("mechanisms", self._build_mechanisms, prebuilt)
        if library is not None:
            self._phase("mechanisms-load", load_mechanisms, self.h, library)
        target = self._phase("balance", self._balance, circuit)
        if options.num_target_ranks is not None:
            return finish_early(parallel, area, settings.output.output_dir, target.count)
        self._phase("circuit-data", check_circuit_data, settings, circuit, parallel.rank,
                    parallel.size, parallel.is_root)
        self._phase("output-size", self._check_output_size, circuit)
        local_nodes, engines = self._phase("cells-check", check_local_cells, circuit,
                                           target.local_gids, self.h, parallel.pc)
        if options.dry_run:
            self._phase("dry-run", self._dry_run, circuit, area)
            return finish_early(parallel, area, settings.output.output_dir, target.count)
        if in_cycles(options, self.simulator, parallel.is_root):
            return run_in_cycles(self, area, circuit, target, start)
        cells = self._phase("cells", build_local_cells, local_nodes, self.h, parallel.pc,
                            settings.run, settings.conditions)
        self._phase("modifications", apply_modifications, settings, circuit, cells, self.h,
                    parallel)
        engines = self._phase("distribution", self._check_distribution, cells, engines, target)
        connections, synapse_models = self._phase("synapses", self._connect_synapses, circuit,
                                                  cells, engines)
        log_warning_totals(parallel, connections.warnings)  # all ranks agreed: safe
        self._phase("gap-junctions", connect_gap_junction_halves, connections, settings,
                    cells, self.h, parallel.pc)
        self._phase("connections", connect_rest, connections, settings, circuit, cells, self.h,
                    parallel.pc)
        self._phase("stimuli", attach_inputs, settings.inputs, circuit, cells, self.h,
                    settings.run)
        reports = self._phase("reports", self._prepare_reports, circuit, cells, area)
        checkpoints = self._phase("checkpoint", Checkpoints, self.h, parallel, settings,
                                  circuit, cells, digests, options)
        self._phase("disk-space", self._check_space, reports)
        stats = None
        if options.model_stats:
            stats = self._phase("model-stats", model_stats, cells, self.h, parallel)
        model = self._model = Model(circuit, target, cells, engines, connections,
                                    synapse_models, reports, checkpoints, stats)
        if not options.simulate:
            if parallel.is_root:
                log.info("Model built; not simulated (--simulate-model OFF)")
            return finish_early(parallel, area, settings.output.output_dir, target.count)
        solver_seconds = self._phase("run", self._run, model, area)
        summary = self._phase("outputs", write_outputs, model, settings, parallel, area,
                              checkpoints.spikes_before)
        summary.wall_time = time.perf_counter() - start
        facts = {"simulator": self.simulator, "lb_mode": options.lb_mode,
                 "imbalance": target.imbalance, "cell_engines": engines,
                 **({"model_stats": stats} if options.model_stats else {}),
                 "synapse_models": synapse_models}
        finish(parallel, self.timings, area, summary, solver_seconds, facts)
        return summary

    # -- phases ---------------------------------------------------------------------------

    def _check_options(self):
        options, run = self.options, self.settings.run
        if options.lb_mode not in LB_MODES:
            raise NeurodamusError(f"--lb-mode {options.lb_mode}: choose one of "
                                  f"{', '.join(LB_MODES)}")
        if options.num_target_ranks is not None and options.num_target_ranks < 1:
            raise NeurodamusError("--num-target-ranks must be at least 1")
        if options.modelbuilding_steps is not None:
            check_multicycle(self.settings, options, self.simulator)
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

    def _prepare_output(self, made: list) -> OutputArea:
        """Before the circuit is opened: output_dir exists and takes files (one message if
        not), and this run's staging directory is made; see outputs.py. The area is also
        put in `made`, for run() to discard when the phase fails on another rank."""
        run_id = self.parallel.bcast(new_run_id() if self.parallel.is_root else None)
        area = OutputArea(self.settings.output.output_dir, run_id, self.settings.config_file)
        self.parallel.on_root_then_share(area.prepare)
        made.append(area)
        on_abort(area.discard)
        return area

    def _open_circuit(self):
        node_sets = libsonata.NodeSets(self.settings.node_sets_json)
        return open_circuit(self.settings, node_sets)

    def _balance(self, circuit) -> Target:
        gids = circuit.target_gids(self.settings.node_set)
        if gids.size == 0:
            raise NeurodamusError(f"node set '{self.settings.node_set}' selects no cells to "
                                  "simulate")
        if self.options.dump_cell_state:
            check_gids(self.options.dump_cell_state, gids)
        checksum = (int(gids.sum()), int((gids.astype(object) ** 2).sum()))
        n_ranks = self.options.num_target_ranks or self.parallel.size
        lb_mode = "WholeCell" if self.options.num_target_ranks else self.options.lb_mode
        mine, imbalance = local_gids(self.h, self.parallel, self.settings, circuit, gids,
                                     lb_mode, n_ranks, self._cache_dir())
        return Target(mine, int(gids.size), checksum, imbalance)

    def _cache_dir(self) -> Path:
        return Path(self.options.mechanisms_cache or default_cache_dir()).parent

    @property
    def simulator(self) -> str:
        return self.options.simulator or self.settings.target_simulator

    def _load_prebuilt_mechanisms(self) -> set[str]:
        """NRNMECH_LIB_PATH: the user's own compiled library, loaded as it is; the names it
        defines (left out of ours)."""
        library = prebuilt_library()
        if library is None:
            return set()
        load_mechanisms(self.h, library)
        if self.parallel.is_root:
            log.info("Mechanisms from %s=%s", PREBUILT_ENV, library)
        return defined_mechanisms(self.h)

    def _build_mechanisms(self, prebuilt_names):
        """The compiled library (None: nothing to compile) and each mod file's code digest
        (for checkpoints)."""
        directories = (*self.settings.circuit.mechanisms_dirs, *self.options.mechanism_dirs)
        sources = mechanism_sources(directories, skip_names=prebuilt_names)
        digests = source_digests(sources)
        if not sources:
            return None, digests
        return self.parallel.on_root_then_share(build_mechanisms, sources,
                                                self.options.mechanisms_cache,
                                                self.simulator == "CORENEURON"), digests

    def _dry_run(self, circuit, area):
        estimate_memory(self.h, self.parallel, self.settings, circuit, self.options.dry_run_ranks,
                        output_dir=area.staging)

    def _check_distribution(self, cells, local_engines, target: Target) -> dict:
        """Every target cell built exactly once across ranks (catches N serial copies); the
        cell engines of every rank's populations, for the log and summary."""
        engines = {}
        for part in self.parallel.allgather(local_engines):
            engines.update(part)
        gids = np.array([c.gid for c in cells], dtype=np.int64)
        count = self.parallel.allreduce_sum(int(gids.size))
        sums = self.parallel.allreduce_sum(int(gids.sum()))
        squares = self.parallel.allreduce_sum(int((gids.astype(object) ** 2).sum()))
        if (count, (sums, squares)) != (target.count, target.checksum):
            raise NeurodamusError(
                f"cell distribution is wrong: {count} cells built over {self.parallel.size} ranks "
                f"for {target.count} targets (are the ranks sharing one MPI?)")
        return dict(sorted(engines.items()))

    def _connect_synapses(self, circuit, cells, engines):
        connections = connect_synapses(self.settings, circuit, cells, self.h, self.parallel.pc)
        synapse_models = synapse_models_by_population(self.settings, self.h)
        if self.parallel.is_root:
            for population, engine in sorted(engines.items()):
                log.info("Cells of %s: %s", population, engine)
            for population, model in sorted(synapse_models.items()):
                log.info("Synapses of %s: %s", population, model)
        return connections, synapse_models

    def _prepare_reports(self, circuit, cells, area):
        return setup_reports(self.settings, circuit, cells, self.h, self.parallel, self.options,
                             area, coreneuron=self.simulator == "CORENEURON")

    def _check_output_size(self, circuit):
        """The reports' sizes at one value per cell, before anything is built (rank 0)."""
        if self.parallel.is_root:
            check_report_lower_bounds(self.settings, circuit)

    def _check_space(self, reports):
        options = self.options
        check_output_space(self.h, self.parallel, self.settings, reports.hooks, options.save_dir,
                           periodic=bool(options.checkpoint_every))

    def _run(self, model: Model, area: OutputArea) -> float:
        """The solver to tstop (or --save-time); gives the seconds spent inside it."""
        settings, parallel, options = self.settings, self.parallel, self.options
        run = run_settings(settings, options)
        max_step = prepare_run(self.h, parallel.pc, run, settings.conditions,
                               coreneuron=self.simulator == "CORENEURON")
        if parallel.is_root:
            log.info("Running to %.1f ms on %d ranks (spike exchange every %.3f ms)",
                     run.tstop, parallel.size, max_step)
        cell_state = ([CellStateDump(options.dump_cell_state, model.cells, area.staging)]
                      if options.dump_cell_state else [])  # --dump-cell-state
        return run_solver(
            self.h, parallel.pc, run, settings.conditions,
            report_progress=options.progress and parallel.is_root,
            hooks=[*window_hooks(model.connections), *model.reports.hooks, *cell_state],
            control=run_control(model, settings, options, parallel),
            coreneuron=self.simulator == "CORENEURON",
            cell_permute=options.cell_permute)
