"""Where a run will write, checked before it runs: the --save and --restore folders, and the
space that the reports and checkpoints will take against the space free where they go.

A run that cannot write its results should stop before it has cost anything: a --save
target that is a file failed with a traceback after the whole simulation, and a report of
every compartment for 10^9 ms started simulating until the disk was full. The sizes are
what the writers will write (reports: float32 frames x elements, the assembled file beside
the rank parts of one report at a time; checkpoints: NEURON's state, estimated from the
mechanisms in the model, twice while the previous one is replaced) and are compared per
file system with what `shutil.disk_usage` says is free.
"""

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, NeurodamusError
from .faults import skipped

log = logging.getLogger("neurodamus")
FLOAT32 = 4
DOUBLE = 8
# Per connection (a synapse's own variables, its NetCon's weights and events) and per cell
# (its header), what BBSaveState writes beside the density mechanisms' variables: set so
# that the estimate is a little above what was written for configs/example (52 cells, 1152
# synapses: 733 kB at 600 ms, estimated 824 kB) and a generated 6-cell circuit (25 kB,
# estimated 33 kB).
POINT_PROCESS_BYTES = 512
CELL_BYTES = 1024


def _existing_ancestor(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists():
        path = path.parent
    return path


def check_save_target(save_dir) -> None:
    """--save DIR: a folder (made if missing) in which this user may write."""
    path = Path(save_dir)
    if path.exists() and not path.is_dir():
        raise NeurodamusError(f"--save {path}: is a file, not a folder (checkpoints are folders)")
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise NeurodamusError(f"--save {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise NeurodamusError(f"--save {path}: no permission to write in {ancestor}")


def check_restore_target(restore_dir) -> None:
    """--restore DIR: a checkpoint folder, or one whose LATEST names a checkpoint."""
    from .checkpoint import LATEST, MANIFEST, resolve

    path = Path(restore_dir)
    if not path.exists():
        raise NeurodamusError(f"--restore: {path} not found")
    if not path.is_dir():
        raise NeurodamusError(f"--restore {path}: is a file, not a checkpoint folder")
    checkpoint = resolve(path)
    if not (checkpoint / MANIFEST).is_file():
        raise NeurodamusError(f"--restore {path}: {LATEST} names {checkpoint.name}, which has "
                              f"no {MANIFEST}")


@dataclass(frozen=True)
class SpaceNeed:
    """`size` bytes that `what` will write under `path` (`peak`: at most this much more
    while it is written, e.g. rank parts beside the assembled file)."""

    what: str
    path: Path
    size: int
    peak: int = 0
    key: str | None = None  # the config key that asks for it, if any


def human(size: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} EB"  # not reached


def check_space(needs: list[SpaceNeed], config_file=None, free=None) -> None:
    """One error naming the largest writer (and its key in `config_file`) when the needs of
    a file system exceed its free space. `free(path) -> bytes` (shutil.disk_usage's by
    default)."""
    if skipped("space-check"):
        return
    free = free or (lambda path: shutil.disk_usage(path).free)
    by_device: dict[int, list[tuple[SpaceNeed, Path]]] = {}
    for need in needs:
        ancestor = _existing_ancestor(need.path)
        by_device.setdefault(os.stat(ancestor).st_dev, []).append((need, ancestor))
    for group in by_device.values():
        total = sum(n.size for n, _ in group) + max(n.peak for n, _ in group)
        available = free(group[0][1])
        if total > available:
            largest = max(group, key=lambda item: item[0].size)[0]
            others = f" (all outputs there: {human(total)})" if len(group) > 1 else ""
            message = (f"{largest.what} needs {human(largest.size + largest.peak)} in "
                       f"{largest.path}{others}, but only {human(available)} is free there")
            if largest.key is not None:
                raise ConfigError(message, file=config_file, key=largest.key)
            raise NeurodamusError(message)


def report_need(name: str, path: Path, frame_count: int, element_count: int,
                at_least: bool = False) -> SpaceNeed:
    """A frame report: frames x elements float32, its rank parts beside it while assembled
    (`at_least`: the element count is a lower bound, one per cell)."""
    size = int(frame_count) * int(element_count) * FLOAT32
    elements = f"at least {element_count} elements (one per cell)" if at_least else \
        f"{element_count} elements"
    return SpaceNeed(f"report '{name}' ({frame_count} frames x {elements} x 4 bytes = "
                     f"{human(size)}, and its rank parts while it is assembled)",
                     Path(path), size, peak=size, key=f"reports.{name}")


AT_LEAST_ONE_ELEMENT_PER_CELL = ("compartment", "summation")  # report types


def check_report_lower_bounds(settings, circuit) -> None:
    """Before any cell is built (the element counts are known only after): reports whose
    type records at least one value per cell, sized at that, against the free space. A
    report that cannot fit even so is refused before the build, however long it would be."""
    import numpy as np

    simulated = circuit.target_gids(settings.node_set)
    needs = []
    for report in settings.reports:
        if report.type not in AT_LEAST_ONE_ELEMENT_PER_CELL:
            continue
        cells = simulated if report.cells is None else np.intersect1d(
            circuit.target_gids(report.cells), simulated)
        path = Path(settings.output.output_dir) / report.file_name
        needs.append(report_need(report.name, path, report.frame_count, cells.size,
                                 at_least=True))
    check_space(needs, settings.config_file)


def checkpoint_state_bytes(h) -> int:
    """This rank's share of a checkpoint, estimated: 8 bytes per range variable of every
    mechanism in every segment (and the voltage), plus fixed amounts per connection (one
    NetCon each) and per cell (a root section each; see above). One segment per section is
    inspected: the sections of a cell share their mechanisms along their length."""
    variables: dict[str, int] = {}
    total, roots = 0, 0
    for section in h.allsec():
        per_segment = 1
        for mechanism in section(0.5):
            name = mechanism.name()
            if name not in variables:
                variables[name] = sum(1 for _ in mechanism)
            per_segment += variables[name]
        total += section.nseg * per_segment * DOUBLE
        roots += section.parentseg() is None
    return total + CELL_BYTES * roots + POINT_PROCESS_BYTES * int(h.List("NetCon").count())


def check_output_space(h, parallel, settings, report_hooks, save_dir=None,
                       periodic: bool = False):
    """The reports (frame and extracellular) and the checkpoint of this run against the free
    space where they go; element counts and checkpoint shares are summed over ranks (every
    rank calls), rank 0 decides."""
    needs = []
    for hook in report_hooks:  # run hooks: reports, and others (which write nothing here)
        report = getattr(hook, "settings", None)
        if report is None:
            continue
        path = Path(settings.output.output_dir) / report.file_name  # where it goes
        table = getattr(hook, "table", None)
        if table is not None:
            elements = parallel.allreduce_sum(table.column_count)
            needs.append(report_need(hook.settings.name, path, hook.frame_count, elements))
        elif getattr(hook, "channel_count", None) is not None:  # extracellular: float64
            cells = parallel.allreduce_sum(len(hook.cells)) if hook.contributions_dir else 0
            size = hook.frame_count * hook.channel_count * DOUBLE
            needs.append(SpaceNeed(
                f"report '{hook.settings.name}' ({hook.frame_count} frames x "
                f"{hook.channel_count} channels x 8 bytes"
                + (f", and as much for each of {cells} cells' contributions" if cells else "")
                + ")", path, size * (1 + cells), key=f"reports.{hook.settings.name}"))
    if save_dir is not None:
        state = parallel.allreduce_sum(checkpoint_state_bytes(h))
        state += sum(n.size for n in needs)  # the frames so far go in: at worst all
        copies = 2 if periodic else 1  # the previous checkpoint stays until replaced
        needs.append(SpaceNeed(f"--save {save_dir}: a checkpoint (estimated)", Path(save_dir),
                               state * copies))
    if parallel.is_root:
        for need in needs:
            log.info("disk space: %s: %s", need.what, human(need.size + need.peak))
        check_space(needs, settings.config_file)
