"""The phases of a simulation, in order, each timed: options -> output -> circuit ->
mechanisms -> balance -> circuit data -> cells -> modifications -> synapses, gap junctions,
connections -> stimuli -> reports -> checkpoint -> run -> outputs (docs/architecture.md has
the table of every `_phase` call, what it takes and what it gives). Settings come in already
validated.

The phases run in four stages, each a method that returns what the next takes: `_prepare`
(circuit, mechanisms, balance: a Target), `_check` (bulk checks before building),
`_build` (cells to checkpoint: a Model, model.py), `_simulate` (run, outputs). Each
phase's result is a local variable passed on to the phases that use it; no phase sets an
attribute (the sequence keeps the Model once built, for `Simulation.model`). What a phase
does lives in its own module: option checks in options.py, checkpoint glue in
checkpoint_control.py, the writing at the end in run_outputs.py.

Every phase that can fail on user data runs through `parallel.agree`, so a problem found
on one rank stops all ranks together with one message.
"""

import logging
import time
from pathlib import Path

import libsonata

from .balance.assign import check_distribution, gid_checksum, local_gids
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
from .dry_run import estimate_memory
from .errors import NeurodamusError
from .faults import inject_in_phase
from .mechanisms import (
    build_mechanisms,
    default_cache_dir,
    load_mechanisms,
    load_prebuilt,
    mechanism_sources,
    source_digests,
)
from .model import Model, Target
from .model_stats import model_stats
from .modifications import apply_modifications
from .multicycle import in_cycles, run_in_cycles
from .options import SimulationOptions, check_options, simulator_of
from .outputs import OutputArea, new_run_id
from .preflight import check_output_space, check_report_lower_bounds
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
            self._phase("options", check_options, self.options, self.settings)
            area = self._phase("output", self._prepare_output, made)
            return self._run_phases(area, start)
        except BaseException as error:
            agreed = isinstance(error, NeurodamusError)
            for staged in made:
                if self.parallel.is_root or not agreed:
                    staged.discard()
            raise

    def _run_phases(self, area: OutputArea, start: float) -> Summary:
        """The phases after `output`, in four stages; each option that stops a run early
        (--num-target-ranks, --dry-run, --simulate-model OFF) stops it between two."""
        options = self.options
        circuit, digests, target = self._prepare()
        if options.num_target_ranks is not None:
            return self._finish_early(area, target)
        local_nodes, engines = self._check(circuit, target)
        if options.dry_run:
            self._dry_run(circuit, area)
            return self._finish_early(area, target)
        if in_cycles(options, self.simulator, self.parallel.is_root):
            return run_in_cycles(self, area, circuit, target, start)
        model = self._model = self._build(circuit, target, local_nodes, engines, digests, area)
        if not options.simulate:
            if self.parallel.is_root:
                log.info("Model built; not simulated (--simulate-model OFF)")
            return self._finish_early(area, target)
        return self._simulate(model, area, start)

    def _prepare(self):
        """The circuit opened, the mechanisms loaded, the cells assigned to ranks: (Circuit,
        each mod file's digest, Target)."""
        circuit = self._phase("circuit", self._open_circuit)
        prebuilt = self._phase("mechanisms-prebuilt", load_prebuilt, self.h,
                               self.parallel.is_root)
        library, digests = self._phase("mechanisms", self._build_mechanisms, prebuilt)
        if library is not None:
            self._phase("mechanisms-load", load_mechanisms, self.h, library)
        target = self._phase("balance", self._balance, circuit)
        return circuit, digests, target

    def _check(self, circuit, target: Target):
        """Bulk checks before anything is built: (this rank's nodes by engine, the engines)."""
        settings, parallel = self.settings, self.parallel
        self._phase("circuit-data", check_circuit_data, settings, circuit, parallel.rank,
                    parallel.size, parallel.is_root)
        self._phase("output-size", self._check_output_size, circuit)
        return self._phase("cells-check", check_local_cells, circuit, target.local_gids,
                           self.h, parallel.pc)

    def _dry_run(self, circuit, area: OutputArea):
        self._phase("dry-run", estimate_memory, self.h, self.parallel, self.settings, circuit,
                    self.options.dry_run_ranks, area.staging)

    def _build(self, circuit, target: Target, local_nodes, engines, digests,
               area: OutputArea) -> Model:
        """Cells, connections, stimuli, reports and checkpoints on this rank: the Model."""
        settings, parallel, h = self.settings, self.parallel, self.h
        cells = self._phase("cells", build_local_cells, local_nodes, h, parallel.pc,
                            settings.run, settings.conditions)
        self._phase("modifications", apply_modifications, settings, circuit, cells, h, parallel)
        engines = self._phase("distribution", check_distribution, parallel, cells, engines,
                              target)
        connections, synapse_models = self._phase("synapses", self._connect_synapses, circuit,
                                                  cells, engines)
        log_warning_totals(parallel, connections.warnings)  # all ranks agreed: safe
        self._phase("gap-junctions", connect_gap_junction_halves, connections, settings,
                    cells, h, parallel.pc)
        self._phase("connections", connect_rest, connections, settings, circuit, cells, h,
                    parallel.pc)
        self._phase("stimuli", attach_inputs, settings.inputs, circuit, cells, h, settings.run)
        reports = self._phase("reports", self._prepare_reports, circuit, cells, area)
        checkpoints = self._phase("checkpoint", Checkpoints, h, parallel, settings, circuit,
                                  cells, digests, self.options)
        self._phase("disk-space", self._check_space, reports)
        stats = None
        if self.options.model_stats:
            stats = self._phase("model-stats", model_stats, cells, h, parallel)
        return Model(circuit, target, cells, engines, connections, synapse_models, reports,
                     checkpoints, stats)

    def _simulate(self, model: Model, area: OutputArea, start: float) -> Summary:
        """The run, the outputs written, the summary and the commit."""
        solver_seconds = self._phase("run", self._run, model, area)
        summary = self._phase("outputs", write_outputs, model, self.settings, self.parallel,
                              area, model.checkpoints.spikes_before)
        summary.wall_time = time.perf_counter() - start
        facts = {"simulator": self.simulator, "lb_mode": self.options.lb_mode,
                 "imbalance": model.target.imbalance, "cell_engines": model.cell_engines,
                 **({"model_stats": model.stats} if self.options.model_stats else {}),
                 "synapse_models": model.synapse_models}
        finish(self.parallel, self.timings, area, summary, solver_seconds, facts)
        return summary

    def _finish_early(self, area: OutputArea, target: Target) -> Summary:
        return finish_early(self.parallel, area, self.settings.output.output_dir, target.count)

    # -- phases ---------------------------------------------------------------------------

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
        checksum = gid_checksum(gids)
        n_ranks = self.options.num_target_ranks or self.parallel.size
        lb_mode = "WholeCell" if self.options.num_target_ranks else self.options.lb_mode
        mine, imbalance = local_gids(self.h, self.parallel, self.settings, circuit, gids,
                                     lb_mode, n_ranks, self._cache_dir())
        return Target(mine, int(gids.size), checksum, imbalance)

    def _cache_dir(self) -> Path:
        return Path(self.options.mechanisms_cache or default_cache_dir()).parent

    @property
    def simulator(self) -> str:
        return simulator_of(self.options, self.settings)

    @property
    def coreneuron(self) -> bool:
        return self.simulator == "CORENEURON"

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
                                                self.coreneuron), digests

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
                             area, coreneuron=self.coreneuron)

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
                               coreneuron=self.coreneuron)
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
            coreneuron=self.coreneuron,
            cell_permute=options.cell_permute)
