"""The options of one run that do not come from the config (the command line's, or a caller's
of the Simulation API): how to build, balance, checkpoint and stop. Checked by the `options`
phase (`check_options`) before anything else runs.
"""

from dataclasses import dataclass
from pathlib import Path

from .balance import LB_MODES
from .coreneuron_support import check_coreneuron_support
from .errors import NeurodamusError
from .multicycle import check_multicycle
from .preflight import check_restore_target, check_save_target


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
    modelbuilding_steps: int | None = None  # build in N cycles, CoreNEURON from disk (multicycle)


def simulator_of(options: SimulationOptions, settings) -> str:
    """NEURON or CORENEURON: the command line's choice, else the config's target_simulator."""
    return options.simulator or settings.target_simulator


def check_options(options: SimulationOptions, settings) -> None:
    """The `options` phase: every option alone and against the config (tstop, the
    simulator), and the checkpoint directories, before anything else runs."""
    run = settings.run
    if options.lb_mode not in LB_MODES:
        raise NeurodamusError(f"--lb-mode {options.lb_mode}: choose one of "
                              f"{', '.join(LB_MODES)}")
    if options.num_target_ranks is not None and options.num_target_ranks < 1:
        raise NeurodamusError("--num-target-ranks must be at least 1")
    if options.modelbuilding_steps is not None:
        check_multicycle(settings, options, simulator_of(options, settings))
    if simulator_of(options, settings) == "CORENEURON":
        check_coreneuron_support(settings)
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
