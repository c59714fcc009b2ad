"""`neurodamus fit FIT_SPEC [options]`: the command, and the loop that ties the parts.

Phases, in order, on every rank: read the spec (rank 0, shared), check the simulation config
and a candidate's config made from the initial values and read the targets' recordings
(rank 0, shared) — all before any cell is built — then split the ranks into groups, run the
optimiser (its evaluations spread over the groups), and write the outputs (rank 0).
"""

import argparse
import json
import logging
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from ..errors import AgreedError, ConfigError, NeurodamusError
from .evaluate import FitInterrupted
from .spec import FitSpec, load_fit_spec

log = logging.getLogger("neurodamus")


def build_parser() -> argparse.ArgumentParser:
    from ..cli_parity import OneLineParser

    parser = OneLineParser(
        prog="neurodamus fit",
        description="Fit a circuit's parameters to recordings (docs/fit.md); "
                    "mpiexec -n N neurodamus fit fit.yaml evaluates candidates on N ranks.",
        allow_abbrev=False)
    parser.add_argument("spec", type=Path, help="the fit spec (YAML or JSON)")
    parser.add_argument("--output-path", type=Path, metavar="DIR",
                        help="write the fit's outputs here instead of the spec's output_dir")
    parser.add_argument("--mechanisms", type=Path, metavar="DIR", action="append", default=[],
                        help="a directory of NMODL files compiled together with ours")
    parser.add_argument("--mechanisms-cache", type=Path, metavar="DIR",
                        help="where compiled mechanisms are cached")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log each candidate's simulation too")
    return parser


def _prepare(spec: FitSpec, mechanism_dirs, cache_root):
    """Rank 0, before anything is built: the simulation config and a candidate's config
    valid, the targets' recordings read, an earlier run's checkpoint loaded."""
    from ..config import load_settings
    from .outputs import load_checkpoint
    from .parameters import BaseConfig
    from .targets import load_target_data

    load_settings(spec.simulation_config, None, mechanism_dirs, cache_root)
    base = BaseConfig(spec.simulation_config, cache_root)
    base.check(spec.file, spec.parameters)
    check = spec.output_dir / "work" / "check"
    check.mkdir(parents=True, exist_ok=True)
    initial = {p.name: p.initial for p in spec.parameters}
    path = check / "simulation_config.json"
    path.write_text(json.dumps(base.with_values(spec.parameters, initial, check / "output"),
                               indent=1))
    settings = load_settings(path, None, mechanism_dirs, cache_root)
    names = {r.name for r in settings.reports}
    for target in spec.targets:
        if target.type == "report" and target.report not in names:
            raise NeurodamusError(f"file {spec.file}, key '{target.key}.report': the "
                                  f"simulation config has no report '{target.report}' "
                                  f"(it has: {', '.join(sorted(names)) or 'none'})")
    return base, load_target_data(spec.targets, base.raw), load_checkpoint(spec)


class Fit:
    """The optimiser's loop over batches, with the history and the checkpoint."""

    def __init__(self, spec: FitSpec, evaluator, world, cached: dict):
        from .outputs import History

        self.spec, self.evaluator, self.world = spec, evaluator, world
        self.history = History(cached=cached)

    def evaluate(self, points) -> list[float]:
        """A collective: the losses of `points`, from the checkpoint or simulated."""
        from ..termination.signals import termination_requested
        from .outputs import Record, point_key, write_checkpoint, write_history

        if self.world.allreduce_max(int(termination_requested())):
            raise FitInterrupted
        keys = [point_key(p) for p in points]
        todo = [p for p, k in zip(points, keys) if k not in self.history.cached]
        fresh = iter(self.evaluator.evaluate(todo) if todo else [])
        batch = self.history.batches
        self.history.batches += 1
        losses = []
        for point, key in zip(points, keys):
            values = self.spec.values(point)
            saved = self.history.cached.get(key)
            if saved is not None:
                record = Record(point, values, saved["loss"], saved["parts"], saved["seconds"],
                                saved["group"], batch, resumed=True)
            else:
                result = next(fresh)
                record = Record(point, values, result.loss, result.parts, result.seconds,
                                result.group, batch)
            self.history.records.append(record)
            losses.append(record.loss)
        if self.world.is_root:
            write_checkpoint(self.spec, self.history)
            write_history(self.spec, self.history)
        return losses

    def run(self):
        from .optimisers import OPTIMISERS

        x0 = np.array([p.to_unit(p.initial) for p in self.spec.parameters])
        OPTIMISERS[self.spec.optimiser.method](self.spec.optimiser, x0, self.evaluate)


def _best_outputs(fit: Fit, groups, evaluator) -> dict:
    """The best candidate's traces for the plot (rank 0): simulated once more, on group 0
    (a rebuilt candidate runs bit for bit as before, see evaluate.py), rather than every
    candidate's traces sent to rank 0."""
    if not any(t.type == "report" for t in fit.spec.targets):
        return {}
    results = evaluator.evaluate([fit.history.best().point])
    return results[0].outputs if groups.world.is_root else {}


def run_fit(args) -> int:
    from .. import cli
    from ..options import SimulationOptions
    from ..parallel import init_parallel
    from ..termination import install_termination_handler
    from .evaluate import Evaluator, RankGroups

    parallel = init_parallel()
    watchdog = install_termination_handler(parallel.rank, parallel.abort, None,
                                           act_on_term=False)
    parallel.failure_listener = watchdog.waiting_with_error
    cli._setup_logging(parallel.is_root, args.verbose)
    start = time.perf_counter()
    try:
        cache_root = cli._cache_root(args)
        spec = parallel.on_root_then_share(load_fit_spec, args.spec, args.output_path)
        if parallel.size % spec.ranks_per_candidate:
            raise ConfigError(f"{spec.ranks_per_candidate} does not divide the {parallel.size} "
                              "MPI ranks", file=spec.file, key="ranks_per_candidate")
        base, data, cached = parallel.on_root_then_share(_prepare, spec, tuple(args.mechanisms),
                                                         cache_root)
        if parallel.is_root:
            log.info("neurodamus fit: %d parameter(s), %d target(s), %s with a budget of %d, "
                     "on %d rank(s) in groups of %d%s", len(spec.parameters), len(spec.targets),
                     spec.optimiser.method, spec.optimiser.budget, parallel.size,
                     spec.ranks_per_candidate,
                     f"; resuming from {len(cached)} saved evaluations" if cached else "")
        groups = RankGroups(parallel, spec.ranks_per_candidate)
        options = SimulationOptions(mechanisms_cache=args.mechanisms_cache,
                                    mechanism_dirs=tuple(args.mechanisms), progress=False)
        evaluator = Evaluator(spec, base, groups, data, options, cache_root,
                              quiet=not args.verbose)
        fit = Fit(spec, evaluator, parallel, cached)
        fit.run()
        best_outputs = _best_outputs(fit, groups, evaluator)
    except FitInterrupted:
        watchdog.stand_down()
        if parallel.is_root:
            print(f"neurodamus: fit stopped on SIGTERM; its checkpoint is in "
                  f"{spec.output_dir}: run the same command again to resume", flush=True)
        return 0
    except NeurodamusError as error:
        if not isinstance(error, AgreedError):
            error = cli._agreed(parallel, error)
        watchdog.stand_down()
        if parallel.is_root:
            print(f"neurodamus: error: {error}", file=sys.stderr, flush=True)
        return 1
    except BaseException:
        watchdog.stand_down()
        print(f"neurodamus: internal error on rank {parallel.rank}:\n{traceback.format_exc()}",
              file=sys.stderr, flush=True)
        time.sleep(cli.ABORT_GRACE_SECONDS)
        parallel.abort(2)
        return 2
    watchdog.stand_down()
    if parallel.is_root:
        _finish(spec, fit, base, data, best_outputs, groups, time.perf_counter() - start)
    parallel.barrier()
    return 0


def _finish(spec: FitSpec, fit: Fit, base, data, best_outputs, groups, wall: float):
    from .outputs import write_plots, write_results

    history = fit.history
    best = history.best()
    fitted = base.with_values(spec.parameters, best.values,
                              spec.output_dir / "fitted_output",
                              spec.output_dir / "fitted_circuit")
    simulated = [r for r in history.records if not r.resumed]
    summary = {
        "spec": str(spec.file), "simulation_config": str(spec.simulation_config),
        "optimiser": spec.optimiser.method, "seed": spec.optimiser.seed,
        "budget": spec.optimiser.budget, "evaluations": len(history.records),
        "evaluations_simulated": len(simulated),
        "evaluations_resumed": len(history.records) - len(simulated),
        "batches": history.batches, "ranks": groups.world.size,
        "ranks_per_candidate": spec.ranks_per_candidate, "groups": groups.count,
        "wall_seconds": wall,
        "evaluations_per_second": len(simulated) / wall if wall > 0 else None,
        "best": {"loss": best.loss, "losses": best.parts, "parameters": best.values},
    }
    plots = write_plots(spec, history, data, best_outputs)
    summary["plots"] = plots
    write_results(spec, history, fitted, summary)
    log.info("Best loss %.6g after %d evaluations (%.1f s): %s", best.loss,
             len(history.records), wall,
             ", ".join(f"{k} = {v:.6g}" for k, v in best.values.items()))
    log.info("Fit outputs in %s", spec.output_dir)


def main(argv) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_fit(args)
    except NeurodamusError as error:
        print(f"neurodamus: error: {error}", file=sys.stderr, flush=True)
        return 1
