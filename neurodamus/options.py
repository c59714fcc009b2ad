"""The options of one run that do not come from the config (the command line's, or a caller's
of the Simulation API): how to build, balance, checkpoint and stop. Checked by the `options`
phase (Simulation._check_options) before anything else runs.
"""

from dataclasses import dataclass
from pathlib import Path


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
