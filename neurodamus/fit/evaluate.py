"""Candidates simulated in parallel: the MPI ranks split into groups, each group builds and
runs one candidate at a time with the driver's own Simulation, in this process.

Why this way: a candidate is an ordinary run of its own simulation config (parameters.py),
so every feature of the driver is available to a fit, and a process per candidate (start
MPI, load NEURON and the mechanisms) would cost more than a small circuit's simulation.

The groups: NEURON's ParallelContext.subworlds(n) makes each block of n consecutive ranks
exchange spikes only among themselves, and an mpi4py communicator split the same way is the
group's Parallel, so the Simulation sees a group as the whole job. Candidate i of a
generation goes to group i mod G; the losses are gathered on every rank (a collective over
the world), so every rank's optimiser takes the same step.

Between candidates NEURON's state is torn down: the Simulation (and so every section, point
process and NetCon) is dropped, the gids and transfer keys are cleared (pc.gid_clear), and
numpy's global random state is restored, so a candidate's result does not depend on what
the group simulated before it (tests/integration/test_fit.py checks it bit for bit against
a fresh process).
"""

import gc
import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import NeurodamusError
from ..options import SimulationOptions
from ..parallel import Parallel
from .parameters import BaseConfig
from .spec import FitSpec
from .targets import LOSSES, read_spikes, read_traces, spike_rates

log = logging.getLogger("neurodamus")


class FitInterrupted(Exception):
    """SIGTERM (or SIGINT): the fit stops; the candidates of the batch under way are lost,
    the checkpoint of the batches before is kept."""


@dataclass
class Evaluation:
    """One candidate's result: the weighted total, each target's loss, and who ran it."""

    loss: float
    parts: dict[str, float]
    seconds: float
    group: int
    error: str | None = None
    interrupted: bool = False  # SIGTERM stopped its run
    outputs: dict = field(default_factory=dict)  # traces, on the rank that read them


class RankGroups:
    """The world split into groups of `ranks_per_candidate` consecutive ranks."""

    def __init__(self, world: Parallel, ranks_per_candidate: int):
        if world.size % ranks_per_candidate:
            raise NeurodamusError(f"ranks_per_candidate {ranks_per_candidate} does not divide "
                                  f"the {world.size} MPI ranks")
        self.world = world
        self.count = world.size // ranks_per_candidate
        self.index = world.rank // ranks_per_candidate
        world.pc.subworlds(ranks_per_candidate)
        if int(world.pc.nhost()) != ranks_per_candidate:
            raise NeurodamusError(f"NEURON made subworlds of {int(world.pc.nhost())} ranks, "
                                  f"not {ranks_per_candidate}")
        comm = world.comm.Split(self.index, world.rank)
        self.parallel = Parallel(comm=comm, pc=world.pc, agree_comm=comm.Dup(),
                                 failure_listener=world.failure_listener)


class Evaluator:
    """Scores candidates (points of the optimiser's [0, 1] space) on the rank groups."""

    def __init__(self, spec: FitSpec, base: BaseConfig, groups: RankGroups, data: dict,
                 options: SimulationOptions, cache_root: Path | None, quiet: bool = True):
        self.spec, self.base, self.groups, self.data = spec, base, groups, data
        self.options, self.cache_root, self.quiet = options, cache_root, quiet
        self.work = spec.output_dir / "work" / f"group-{groups.index}"
        self.count = 0  # candidates this rank's group has simulated

    def evaluate(self, units) -> list[Evaluation]:
        """Every rank calls it with the same candidates; every rank gets every result."""
        world, groups = self.groups.world, self.groups
        mine = {}
        for i, unit in enumerate(units):
            if i % groups.count == groups.index:
                mine[i] = self._one(np.asarray(unit, float))
        # the outputs (e.g. traces) stay where they were read: only the losses travel
        shared = {i: replace(r, outputs={}) for i, r in mine.items()}
        gathered = world.comm.allgather(shared if groups.parallel.is_root else {})
        results: dict[int, Evaluation] = {}
        for part in gathered:
            results.update(part)
        if groups.parallel.is_root:
            results.update(mine)
        if any(r.interrupted for r in results.values()):
            raise FitInterrupted
        errors = [r.error for r in results.values() if r.error]
        if errors:
            raise NeurodamusError(errors[0])
        return [results[i] for i in range(len(units))]

    def config_for(self, values: dict[str, float], output_dir: Path) -> dict:
        return self.base.with_values(self.spec.parameters, values, output_dir)

    def _one(self, unit: np.ndarray) -> Evaluation:
        from ..run import RunInterrupted
        from ..termination.signals import termination_requested

        group = self.groups.parallel
        start = time.perf_counter()
        if group.allreduce_max(int(termination_requested())):
            return Evaluation(np.inf, {}, 0.0, self.groups.index, interrupted=True)
        random_state = np.random.get_state()
        logger_level = log.level
        if self.quiet:
            log.setLevel(logging.WARNING)
        try:
            outputs = self._simulate(self.spec.values(unit))
            parts = self._score(outputs) if group.is_root else {}
            error = None
        except NeurodamusError as failure:
            parts, error, outputs = {}, str(failure), {}
        except RunInterrupted:
            return Evaluation(np.inf, {}, 0.0, self.groups.index, interrupted=True)
        finally:
            log.setLevel(logger_level)
            np.random.set_state(random_state)
        self.count += 1
        total = sum(t.weight * parts[t.name] for t in self.spec.targets) if parts else np.inf
        return Evaluation(loss=float(total), parts=parts, seconds=time.perf_counter() - start,
                          group=self.groups.index, error=error, outputs=outputs)

    def _simulate(self, values: dict[str, float]) -> dict:
        """Build and run one candidate on this group; its outputs (rank 0 of the group)."""
        from ..config import load_settings
        from ..simulation import Simulation

        group = self.groups.parallel
        path = self.work / "simulation_config.json"
        output_dir = self.work / "output"
        if group.is_root:
            self.work.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.config_for(values, output_dir), indent=1))
        group.barrier()
        settings = group.on_root_then_share(load_settings, path, None,
                                            self.options.mechanism_dirs, self.cache_root)
        simulation = Simulation(settings, group, self.options)
        try:
            simulation.run()
        finally:
            del simulation
            gc.collect()
            group.pc.gid_clear()
        return {"settings": settings} if group.is_root else {}

    def _score(self, outputs: dict) -> dict[str, float]:
        settings = outputs.pop("settings")
        output_dir = Path(settings.output.output_dir)
        parts = {}
        for target in self.spec.targets:
            actual = read_candidate(target, settings, output_dir, self.data[target.name])
            if target.type == "report":
                outputs[target.name] = actual
            parts[target.name] = LOSSES[target.loss].score(self.data[target.name], actual,
                                                           target)
        return parts


def read_candidate(target, settings, output_dir: Path, expected):
    """A candidate's outputs in the form its target's data has."""
    spikes = output_dir / settings.output.spikes_file
    if target.type == "report":
        report = next((r for r in settings.reports if r.name == target.report), None)
        if report is None:
            raise NeurodamusError(f"targets '{target.name}': the simulation config has no "
                                  f"report '{target.report}'")
        return read_traces(output_dir / report.file_name, target, expected.node_ids)
    if target.type == "spikes":
        return read_spikes(spikes, target)
    window = target.window or (0.0, settings.run.tstop)
    return spike_rates(spikes, expected.cells, window)
