"""The reference neurodamus's command-line options, under their names, where they mean the
same here, so that job scripts written for it run unchanged; and one-line errors for the
options that do not exist.

Some of its options steer a step this driver does not have (CoreNEURON's model folder on
disk): they are accepted and do nothing, and say so in the log. Those that would change
results in a way we do not implement are refused with the reason (`NOT_HERE`).
"""

import argparse
import os
import re
import sys

import numpy as np

from . import __version__

# Options of the reference that are refused, and why (shown with "unrecognized option").
NOT_HERE = {
    "--crash-test": "single-section cells and single synapses are not implemented",
    "--memory-tracker": "memory is measured from the process's resident size only",
}
# Environment variables in which MPI launchers give a process its rank, read before MPI is up.
LAUNCHER_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MPI_LOCALRANKID",
                           "SLURM_PROCID")


def launcher_rank() -> int:
    for name in LAUNCHER_RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one `neurodamus: error:` line, printed by the first rank only, exit
    code 1 like every other user error (argparse's own is usage text and 2)."""

    def error(self, message):
        if launcher_rank() == 0:
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            sys.stderr.flush()
        raise SystemExit(1)

    def parse_args(self, args=None, namespace=None):
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            self.error(unrecognized_message(extra))
        return parsed


def unrecognized_message(extra) -> str:
    options = [word for word in extra if word.startswith("-")]
    if not options:
        return f"unexpected argument {extra[0]} (one simulation config at a time)"
    name = options[0].split("=", 1)[0]
    reason = NOT_HERE.get(name)
    return f"unrecognized option {name}" + (f" (a neurodamus option: {reason})" if reason else "")


def parse_gids(text: str) -> tuple[int, ...]:
    """`1,2,3-6,9` -> (1, 2, 3, 4, 5, 6, 9): gids as this run numbers them (population
    offset + node id, as in distribution.json)."""
    gids: list[int] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if match is None:
            raise argparse.ArgumentTypeError(f"'{text}': give gids and ranges like 1,2,3-6")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise argparse.ArgumentTypeError(f"'{part}': a range goes from low to high")
        gids.extend(range(first, last + 1))
    return tuple(np.unique(np.asarray(gids, np.int64)).tolist())


def _build_model(value: str) -> str:
    value = value.upper()
    if value == "OFF":
        raise argparse.ArgumentTypeError(
            "OFF: the model is built in memory in every run; there is no built model to reuse")
    if value not in ("AUTO", "ON"):
        raise argparse.ArgumentTypeError(f"'{value}': choose AUTO or ON")
    return value


def _on_off(value: str) -> str:
    if value.upper() not in ("ON", "OFF"):
        raise argparse.ArgumentTypeError(f"'{value}': choose ON or OFF")
    return value.upper()


# --cell-permute's values, as the reference names them: CoreNEURON's cell_permute.
CELL_PERMUTE = {"unpermuted": 0, "node-adjacency": 1, "0": 0, "1": 1}


def _cell_permute(value: str) -> int:
    permute = CELL_PERMUTE.get(value.lower())
    if permute is None:
        raise argparse.ArgumentTypeError(f"'{value}': choose unpermuted or node-adjacency")
    return permute


def add_parity_options(parser: argparse.ArgumentParser):
    parser.add_argument("--version", action="version", version=f"neurodamus {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="as --verbose, and every rank logs (lines start with its rank)")
    parser.add_argument("--disable-reports", action="store_true",
                        help="write no frame reports (the config's reports are still checked); "
                             "spikes are written")
    parser.add_argument("--dump-cell-state", type=parse_gids, metavar="GIDS",
                        help="write the state of these cells (gids as in distribution.json, "
                             "e.g. 1,2,3-6) after initialisation and at the end of the run, "
                             "as cell_state/<gid>_t<ms>.json in the output directory")
    parser.add_argument("--model-stats", action="store_true",
                        help="log per-population counts of cells, sections, segments, "
                             "synapses and NetCons after building (also in run_summary.json)")
    parser.add_argument("--cell-permute", type=_cell_permute, default=0,
                        metavar="unpermuted|node-adjacency",
                        help="CoreNEURON's ordering of each cell's nodes in memory (its "
                             "cell_permute; only with CoreNEURON, as in neurodamus)")
    parser.add_argument("--modelbuilding-steps", type=int, metavar="N",
                        help="CoreNEURON: build the model in N cycles of this rank's cells, "
                             "each written to disk and freed, then run CoreNEURON from the "
                             "files (building needs about 1/N of the memory; spikes only). "
                             "Ignored under NEURON")
    parser.add_argument("--simulate-model", type=_on_off, default="ON", metavar="ON|OFF",
                        help="OFF: build the model (cells, synapses, stimuli, reports) and "
                             "stop before running")
    group = parser.add_argument_group(
        "accepted for compatibility with neurodamus (no effect here: CoreNEURON always "
        "receives the model in memory, with no build folder)")
    group.add_argument("--build-model", type=_build_model, metavar="AUTO|ON")
    group.add_argument("--keep-build", action="store_true")
    group.add_argument("--enable-shm", type=_on_off, metavar="ON|OFF")
    group.add_argument("--coreneuron-direct-mode", action="store_true")
    group.add_argument("--use-color", type=_on_off, metavar="ON|OFF",
                       help="logs have no colour here")


def compatibility_notes(args) -> list[str]:
    """A line for each accepted option that has nothing to do here."""
    notes = []
    if args.keep_build:
        notes.append("--keep-build: there is no build folder (the model stays in memory)")
    if args.enable_shm == "ON":
        notes.append("--enable-shm: there is no coreneuron_input folder to put in /dev/shm")
    if args.coreneuron_direct_mode:
        notes.append("--coreneuron-direct-mode: CoreNEURON always runs in direct mode here")
    if args.build_model is not None:
        notes.append(f"--build-model {args.build_model}: the model is built in every run")
    return notes
