"""`neurodamus CONFIG [options]`: run a SONATA simulation on all MPI ranks.

Exit code 0 on success, 1 on a user error (printed once, by rank 0), and an abort of all
ranks with a traceback on a bug, so that no rank is left waiting for another.
"""

import argparse
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from . import logfile
from .balance import lb_mode
from .cli_parity import OneLineParser, add_parity_options, compatibility_notes
from .errors import AgreedError, NeurodamusError

log = logging.getLogger("neurodamus")
ABORT_GRACE_SECONDS = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="neurodamus",
        description="Run a SONATA simulation with NEURON on MPI ranks "
                    "(mpiexec -n N neurodamus simulation_config.json).",
        epilog="Other commands: `neurodamus build-mechanisms --help`, "
               "`neurodamus export-dynapse --help`, `neurodamus plot --help`, "
               "`neurodamus fit --help`. "
               "Environment: NRNMECH_LIB_PATH (a prebuilt "
               "libnrnmech.so, loaded as is), HOC_LIBRARY_PATH (where hoc files are found).",
        allow_abbrev=False)
    parser.add_argument("config", type=Path, help="the SONATA simulation_config.json")
    parser.add_argument("--output-path", type=Path, metavar="DIR",
                        help="write outputs here instead of the config's output.output_dir")
    parser.add_argument("--mechanisms", type=Path, metavar="DIR", action="append", default=[],
                        help="a directory of NMODL files compiled together with ours "
                             "(may be repeated)")
    parser.add_argument("--mechanisms-cache", type=Path, metavar="DIR",
                        help="where compiled mechanisms are cached "
                             "(default $NEURODAMUS_CACHE_DIR or ~/.cache/neurodamus)")
    parser.add_argument("--report-buffer-size", type=float, default=8.0, metavar="MB",
                        help="per-rank memory for each report's recording buffer before it is "
                             "flushed to disk (default 8)")
    parser.add_argument("--save", type=Path, metavar="DIR",
                        help="save a checkpoint into DIR at the end of the run (or at --save-time)")
    parser.add_argument("--save-time", type=float, metavar="T",
                        help="stop at T ms (before run.tstop) and save there")
    parser.add_argument("--checkpoint-every", type=float, metavar="T",
                        help="also save every T ms of simulated time (the newest is kept)")
    parser.add_argument("--checkpoint-keep", type=int, default=1, metavar="N",
                        help="keep the N newest checkpoints in --save DIR (default 1); restore "
                             "an older one with --restore DIR/checkpoint-t<T>")
    parser.add_argument("--checkpoint-on-term", action="store_true",
                        help="on SIGTERM, save a checkpoint and stop cleanly (needs --save)")
    parser.add_argument("--timeout", type=_positive_seconds, metavar="SECONDS",
                        help="end every rank, with a message, when no phase and no run window "
                             "has finished for SECONDS (a hung rank); off by default")
    parser.add_argument("--restore", type=Path, metavar="DIR",
                        help="continue from the checkpoint in DIR to this config's run.tstop")
    parser.add_argument("--lb-mode", default="RoundRobin", type=_lb_mode,
                        metavar="RoundRobin|WholeCell|Memory",
                        help="how cells are spread over ranks (any case; rr = RoundRobin, as "
                             "neurodamus spells it): RoundRobin, WholeCell by NEURON's "
                             "complexity measure (saved and reused per circuit, node set, ranks), "
                             "or Memory by each cell's memory as the dry run measures it")
    parser.add_argument("--num-target-ranks", type=int, metavar="N",
                        help="only compute (and save) a WholeCell assignment for N ranks, "
                             "or with --dry-run, estimate memory for N ranks")
    parser.add_argument("--simulator", choices=["NEURON", "CORENEURON"],
                        help="solver (default: the config's target_simulator, else NEURON)")
    parser.add_argument("--dry-run", action="store_true",
                        help="instantiate a sample of each cell kind and print the memory each "
                             "rank would need, without simulating")
    parser.add_argument("--no-progress", action="store_true",
                        help="do not print the progress line during the run")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log more detail (debug level)")
    add_parity_options(parser)
    parser.add_argument("--strict", action="store_true",
                        help="refuse keys of the simulation config that SONATA does not define "
                             "(by default a warning names them and the closest known key)")
    return parser


def _lb_mode(text: str) -> str:
    """--lb-mode's value, spelt as the reference simulator accepts it (balance.lb_mode)."""
    try:
        return lb_mode(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_seconds(text: str) -> float:
    """--timeout's value: a number of seconds above 0 (argparse turns the error into one
    usage line)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return seconds


def _setup_logging(is_root: bool, verbose: bool, debug_rank: int | None = None):
    """Rank 0 logs (to stdout, and to output.log_file once the config names it); with
    --debug (`debug_rank` set) every rank logs at debug level, its lines marked."""
    level = (logging.DEBUG if verbose else logging.INFO) if is_root else logging.ERROR
    line = "%(message)s"
    if debug_rank is not None:
        level, line = logging.DEBUG, f"[rank {debug_rank}] %(message)s" if not is_root else line
    logging.basicConfig(level=level, format=line, stream=sys.stdout, force=True)
    if is_root:
        logfile.install()


def _cache_root(args) -> Path:
    """Where cached products live (mechanisms, strict circuit copies): beside the
    mechanisms cache."""
    from .mechanisms import default_cache_dir

    return Path(args.mechanisms_cache or default_cache_dir()).parent


def _agreed(parallel, error: NeurodamusError) -> NeurodamusError:
    """Meet the other ranks with `error`: all of them when they failed alike (then rank 0
    prints it once), else this rank's watchdog prints it and ends them (termination/)."""
    def fail():
        raise error
    try:
        parallel.agree(fail)
    except NeurodamusError as agreed:
        return agreed
    return error


def run_simulation(args) -> int:
    from .parallel import init_parallel
    from .run import RunInterrupted
    from .simulation import Simulation
    from .termination import install_termination_handler
    from .termination.signals import stop_signal_name

    parallel = init_parallel()
    watchdog = install_termination_handler(parallel.rank, parallel.abort, args.timeout,
                                           act_on_term=not args.checkpoint_on_term)
    parallel.failure_listener = watchdog.waiting_with_error
    _setup_logging(parallel.is_root, args.verbose or args.debug,
                   parallel.rank if args.debug else None)
    try:
        settings = _load_settings(args, parallel)
        summary = Simulation(settings, parallel, _options(args)).run()
    except RunInterrupted as stop:
        watchdog.stand_down()
        if parallel.is_root:
            saved = f"; checkpoint in {args.save}, continue with --restore {args.save}" \
                if stop.saved else " (no checkpoint: give --save DIR --checkpoint-on-term)"
            line = f"neurodamus: stopped on {stop_signal_name()} at t = {stop.time:.3f} ms{saved}"
            print(line, flush=True)
            logfile.write_error(line)
        return 0 if stop.saved else 1
    except NeurodamusError as error:
        if not isinstance(error, AgreedError):  # raised on this rank outside a phase: the
            error = _agreed(parallel, error)     # others come, or the watchdog ends them
        watchdog.stand_down()
        if parallel.is_root:
            line = f"neurodamus: error: {error}"
            print(line, file=sys.stderr, flush=True)
            logfile.write_error(line)
        return 1
    except BaseException:  # a bug: other ranks may be blocked in a collective
        watchdog.stand_down()
        print(f"neurodamus: internal error on rank {parallel.rank}:\n{traceback.format_exc()}",
              file=sys.stderr, flush=True)
        for cleanup in watchdog.cleanups:  # e.g. this run's staged outputs
            cleanup()
        time.sleep(ABORT_GRACE_SECONDS)  # let mpiexec forward the message before the kill
        parallel.abort(2)
        return 2
    watchdog.stand_down()
    if parallel.is_root and not summary.early and summary.spikes_file is not None:
        log.info("Outputs in %s (spikes: %s)", summary.output_dir, summary.spikes_file.name)
        log.info("Done: %d cells, %d synapses, %d spikes, %.1f s wall on %d rank(s)",
                 summary.cells, summary.synapses, summary.spikes, summary.wall_time, summary.ranks)
    return 0


def _load_settings(args, parallel):
    """The config read on rank 0 (which writes the strict copies another dialect needs) and
    shared; the log file opened; what reading it noticed logged once."""
    from .config import load_settings

    if parallel.is_root:
        log.info("neurodamus on %d MPI rank%s", parallel.size, "s" if parallel.size > 1 else "")
    settings = parallel.on_root_then_share(load_settings, args.config, args.output_path,
                                           tuple(args.mechanisms), _cache_root(args),
                                           strict=args.strict)
    if parallel.is_root:
        logfile.open_log_file(settings.output.output_dir, settings.output.log_file)
        for line in settings.leniencies:
            log.warning("read leniently: %s", line)
        for line in settings.warnings:
            log.warning("%s", line)
        for line in compatibility_notes(args):
            log.info("%s", line)
    if args.disable_reports:
        settings = _without_reports(settings, parallel.is_root)
    return settings


def _options(args):
    """The SimulationOptions the command line gives."""
    from .simulation import SimulationOptions

    return SimulationOptions(mechanisms_cache=args.mechanisms_cache,
                             mechanism_dirs=tuple(args.mechanisms),
                             progress=not args.no_progress,
                             report_buffer_mb=args.report_buffer_size,
                             save_dir=args.save, save_time=args.save_time,
                             checkpoint_every=args.checkpoint_every,
                             checkpoint_keep=args.checkpoint_keep,
                             checkpoint_on_term=args.checkpoint_on_term,
                             restore_dir=args.restore, lb_mode=args.lb_mode,
                             num_target_ranks=None if args.dry_run else args.num_target_ranks,
                             simulator=args.simulator, dry_run=args.dry_run,
                             dry_run_ranks=args.num_target_ranks,
                             dump_cell_state=args.dump_cell_state or (),
                             model_stats=args.model_stats,
                             cell_permute=args.cell_permute,
                             modelbuilding_steps=args.modelbuilding_steps,
                             simulate=args.simulate_model == "ON")


def _without_reports(settings, is_root: bool):
    """--disable-reports: the config's frame reports (checked already) are not recorded."""
    from dataclasses import replace

    if is_root and settings.reports:
        log.info("--disable-reports: %d report(s) not written (%s)", len(settings.reports),
                 ", ".join(report.name for report in settings.reports))
    return replace(settings, reports=())


def build_mechanisms_command(argv) -> int:
    """`neurodamus build-mechanisms [DIR ...]`: compile ours (and DIRs') into the cache now,
    e.g. on a login node before a batch job."""
    from .mechanisms import build_mechanisms, mechanism_sources

    parser = argparse.ArgumentParser(prog="neurodamus build-mechanisms",
                                     description=build_mechanisms_command.__doc__,
                                     allow_abbrev=False)
    parser.add_argument("directories", nargs="*", type=Path, help="extra mod file directories")
    parser.add_argument("--mechanisms-cache", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    try:
        library = build_mechanisms(mechanism_sources(args.directories), args.mechanisms_cache)
    except NeurodamusError as error:
        print(f"neurodamus: error: {error}", file=sys.stderr)
        return 1
    print(f"mechanisms: {library}")
    return 0


def main(argv=None) -> int:
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")  # no display on compute nodes
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export-dynapse":
        from .export.dynapse.cli import main as export_main
        return export_main(argv[1:])
    if argv and argv[0] == "build-mechanisms":
        return build_mechanisms_command(argv[1:])
    if argv and argv[0] == "fit":
        from .fit.command import main as fit_main
        return fit_main(argv[1:])
    if argv and argv[0] == "plot":
        from .plots.cli import main as plot_main
        return plot_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return run_simulation(args)
    except NeurodamusError as error:  # before MPI is up (e.g. NEURON did not load MPI)
        print(f"neurodamus: error: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the handler was installed: nothing written yet
        print("neurodamus: stopped on SIGINT during start-up", file=sys.stderr, flush=True)
        return 1
