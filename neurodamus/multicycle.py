"""--modelbuilding-steps N: the model built in N cycles and run by CoreNEURON from disk (its
offline path), so that building needs the memory of about 1/N of the model.

Why: NEURON's copy of a cell (sections, mechanisms, synapses, NetCons, the Python objects that
made them) is several times larger than CoreNEURON's. Built whole, the peak is NEURON's copy of
every local cell plus the transfer; built in cycles, each cycle's cells are built, written
for CoreNEURON (ParallelContext.nrnbbcore_write) and freed before the next cycle starts, and
CoreNEURON then reads every cycle's files and runs. A cell's synapses are built in its cycle
(NetCons name their source by gid, so a source in another cycle or on another rank is found
when CoreNEURON loads the files); the model is the same as one build, so are the spikes.

Each rank splits its own cells into the cycles, round-robin in gid order, so any rank count
and load-balance mode works. Under NEURON the option is accepted and ignored with one line, as
in the reference simulator (NEURON needs every cell in memory to run). What CoreNEURON's
offline path here cannot carry is refused before anything is built (check_multicycle): frame
reports (CoreNEURON's report writer is not in NEURON's wheel), spike replay (queued into
NEURON between windows), gap junctions, checkpoints and cell-state dumps.
"""

import gc
import logging
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cells.engines import build_local_cells, check_local_cells
from .connectivity import connect_rest, connect_synapses
from .coreneuron_support import check_coreneuron_model
from .errors import ConfigError
from .modifications import apply_modifications
from .run import prepare_run
from .stimuli import attach_inputs
from .validation import log_warning_totals

log = logging.getLogger("neurodamus")
DATA_DIRECTORY = "coreneuron_input"  # under the run's staging directory, removed after the run
SPIKES_FILE = "out.dat"  # CoreNEURON's own spike file: "time<TAB>gid" lines


def check_multicycle(settings, options, simulator: str):
    """Refuse, before anything is built, what the offline path cannot run (one error per
    feature, naming the key); under NEURON nothing is refused (the option is ignored)."""
    if options.modelbuilding_steps < 1:
        raise ConfigError(f"--modelbuilding-steps {options.modelbuilding_steps}: must be at "
                          "least 1")
    if simulator != "CORENEURON":
        return
    why = "with --modelbuilding-steps (CoreNEURON runs the model from disk here)"
    if settings.reports:
        name = next(iter(settings.reports)).name
        raise ConfigError(f"report '{name}': frame reports are not written {why}: CoreNEURON's "
                          "report writer is not in NEURON's wheel (use --disable-reports for "
                          "spikes only)", file=settings.config_file, key=f"reports.{name}")
    for stimulus in settings.inputs:
        if stimulus.module == "synapse_replay":
            raise ConfigError(f"input '{stimulus.name}': spike replay is not possible {why}",
                              file=settings.config_file,
                              key=f"inputs.{stimulus.name}.module")
    for edges in settings.circuit.edge_populations:
        if edges.type == "electrical":
            raise ConfigError(f"edge population '{edges.name}': gap junctions are not possible "
                              f"{why}", key="networks.edges")
    for flag, given in (("--save", options.save_dir), ("--restore", options.restore_dir),
                        ("--dump-cell-state", options.dump_cell_state)):
        if given:
            raise ConfigError(f"{flag} is not possible {why}")


def in_cycles(options, simulator: str, is_root: bool) -> bool:
    """Whether this run builds in cycles (the option given, CoreNEURON, a run to do); under
    NEURON the option is ignored with one line, as in the reference simulator."""
    if options.modelbuilding_steps is None or not options.simulate:
        return False
    if simulator != "CORENEURON":
        if is_root:
            log.warning("--modelbuilding-steps %d ignored: NEURON runs the model from memory, "
                        "built in one step (the cycles are for CoreNEURON)",
                        options.modelbuilding_steps)
        return False
    return True


def cycle_parts(local_gids, n_cycles: int) -> list[np.ndarray]:
    """This rank's gids split into `n_cycles` parts, round-robin in gid order."""
    ordered = np.sort(np.asarray(local_gids, np.int64))
    return [ordered[i::n_cycles] for i in range(n_cycles)]


def cycles_possible(parallel, local_count: int, wanted: int) -> int:
    """`wanted`, or fewer where a rank has fewer cells than cycles (CoreNEURON needs each rank
    to write cells in every cycle), with one line saying so."""
    fewest = min(parallel.allgather(local_count))
    n_cycles = max(1, min(wanted, fewest))
    if n_cycles < wanted and parallel.is_root:
        log.warning("--modelbuilding-steps %d: a rank has only %d cell(s); building in %d "
                    "cycle(s)", wanted, fewest, n_cycles)
    return n_cycles


def merge_file_lists(directory: Path, n_cycles: int):
    """One files.dat listing every cycle's cell groups (each cycle's own list was set aside
    as files_<cycle>.dat): the version line, the group count, the group ids."""
    version, groups = "", []
    for cycle in range(n_cycles):
        lines = (directory / f"files_{cycle}.dat").read_text().splitlines()
        version = lines[0]
        groups += lines[2:2 + int(lines[1])]
    (directory / "files.dat").write_text("\n".join([version, str(len(groups)), *groups]) + "\n")


def read_spikes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(times, gids) from CoreNEURON's out.dat (negative gids: its artificial cells)."""
    text = path.read_text() if path.is_file() else ""
    rows = [line.split() for line in text.splitlines() if line.strip()]
    rows = [row for row in rows if len(row) == 2 and not row[0].startswith("#")]
    times = np.array([float(t) for t, _ in rows], float)
    gids = np.array([int(g) for _, g in rows], np.int64)
    keep = gids >= 0
    return times[keep], gids[keep]


@contextmanager
def _working_directory(path: Path):
    """CoreNEURON writes out.dat into the working directory."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@dataclass
class _Spikes:
    times: np.ndarray
    gids: np.ndarray

    def local_spikes(self):
        return self.times, self.gids


@dataclass
class _NoReports:
    spikes: _Spikes

    def finalize(self):
        pass


@dataclass
class _Gid:
    gid: int


@dataclass
class _Connections:
    synapses: int = 0
    warnings: list = field(default_factory=list)


@dataclass
class CycledModel:
    """What run_outputs.write_outputs reads of a model, for one built in cycles and freed:
    the spikes CoreNEURON wrote (all on the first rank), the cells this rank built, the
    synapses it made."""

    circuit: object
    target: object
    cells: list
    connections: _Connections
    reports: _NoReports

    @property
    def spike_recorder(self):
        return self.reports.spikes


def build_in_cycles(sim, circuit, target, n_cycles: int, data: Path) -> CycledModel:
    """Each cycle: this rank's share of its cells built with their synapses, connections and
    inputs, initialised, written for CoreNEURON into `data`, then freed."""
    settings, parallel, h = sim.settings, sim.parallel, sim.h
    pc = parallel.pc
    built: list[int] = []
    synapses = 0
    run = settings.run
    for cycle, gids in enumerate(cycle_parts(target.local_gids, n_cycles)):
        if parallel.is_root:
            log.info("Model-building cycle %d of %d", cycle + 1, n_cycles)
        local_nodes, _ = sim._phase("cells-check", check_local_cells, circuit, gids, h, pc)
        cells = sim._phase("cells", build_local_cells, local_nodes, h, pc, run,
                           settings.conditions)
        sim._phase("modifications", apply_modifications, settings, circuit, cells, h, parallel)
        connections = sim._phase("synapses", connect_synapses, settings, circuit, cells, h, pc)
        log_warning_totals(parallel, connections.warnings)
        sim._phase("connections", connect_rest, connections, settings, circuit, cells, h, pc)
        inputs = sim._phase("stimuli", attach_inputs, settings.inputs, circuit, cells, h, run)
        sim._phase("cycle-write", _write_cycle, sim, data, cycle)
        built += [int(c.gid) for c in cells]
        synapses += connections.synapses
        del cells, connections, inputs, local_nodes
        pc.gid_clear()
        gc.collect()
    if parallel.is_root:
        merge_file_lists(data, n_cycles)
    parallel.barrier()
    return CycledModel(circuit, target, [_Gid(g) for g in built], _Connections(synapses),
                       _NoReports(_Spikes(np.zeros(0), np.zeros(0, np.int64))))


def _write_cycle(sim, data: Path, cycle: int):
    h, pc, settings = sim.h, sim.parallel.pc, sim.settings
    prepare_run(h, pc, settings.run, settings.conditions, coreneuron=True)
    check_coreneuron_model(h, pc)  # what CoreNEURON would abort on: one error, all ranks
    h.finitialize(settings.conditions.v_init)
    pc.nrnbbcore_write(str(data))
    sim.parallel.barrier()
    if sim.parallel.is_root:
        (data / "files.dat").rename(data / f"files_{cycle}.dat")


def run_from_files(sim, model: CycledModel, data: Path, cell_permute: int) -> float:
    """CoreNEURON on every cycle's files to tstop; its spikes into `model` (first rank).
    Returns the wall seconds inside the solver."""
    import time

    from neuron import coreneuron

    h, pc, settings, parallel = sim.h, sim.parallel.pc, sim.settings, sim.parallel
    prepare_run(h, pc, settings.run, settings.conditions, coreneuron=True)
    coreneuron.enable = True
    coreneuron.file_mode = True
    coreneuron.model_path = str(data)
    coreneuron.skip_write_model_to_disk = True
    coreneuron.cell_permute = cell_permute
    coreneuron.verbose = 0
    h.finitialize(settings.conditions.v_init)  # NEURON's own (now empty) model
    start = time.perf_counter()
    try:
        with _working_directory(data):
            pc.psolve(settings.run.tstop)
    finally:
        coreneuron.file_mode = False
        coreneuron.skip_write_model_to_disk = False
        coreneuron.model_path = None
    seconds = time.perf_counter() - start
    parallel.barrier()
    if parallel.is_root:
        times, gids = read_spikes(data / SPIKES_FILE)
        model.reports.spikes = _Spikes(times, gids)
    return seconds


def remove_data(parallel, data: Path):
    parallel.barrier()
    if parallel.is_root:
        shutil.rmtree(data, ignore_errors=True)


def run_in_cycles(sim, area, circuit, target, start: float):
    """The build, run and output phases of Simulation, for a model built in cycles (the hook
    in Simulation._run_phases); gives the run's Summary."""
    import time

    from .errors import NeurodamusError
    from .run_outputs import finish, write_outputs

    parallel, options, settings = sim.parallel, sim.options, sim.settings
    n_cycles = cycles_possible(parallel, int(target.local_gids.size),
                               options.modelbuilding_steps)
    if parallel.is_root:
        log.info("MULTI-CYCLE RUN: %d Cycles (CoreNEURON runs the model from disk)", n_cycles)
    data = area.staging / DATA_DIRECTORY
    if parallel.is_root:
        data.mkdir(parents=True, exist_ok=True)
    parallel.barrier()
    try:
        model = build_in_cycles(sim, circuit, target, n_cycles, data)
        built = parallel.allreduce_sum(len(model.cells))
        if built != target.count:
            raise NeurodamusError(f"cell distribution is wrong: {built} cells built in "
                                  f"{n_cycles} cycles for {target.count} targets")
        solver_seconds = sim._phase("run", run_from_files, sim, model, data,
                                    options.cell_permute)
    finally:
        remove_data(parallel, data)
    empty = (np.zeros(0), np.zeros(0, np.int64))
    summary = sim._phase("outputs", write_outputs, model, settings, parallel, area, empty)
    summary.wall_time = time.perf_counter() - start
    facts = {"simulator": "CORENEURON", "lb_mode": options.lb_mode,
             "imbalance": target.imbalance, "modelbuilding_steps": n_cycles}
    finish(parallel, sim.timings, area, summary, solver_seconds, facts)
    return summary
