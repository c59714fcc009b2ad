"""Memory load balancing (--lb-mode Memory), as the reference simulator does it: the cells'
memory per metype (cell_memory_usage.json from the working directory or the output
directory when it describes this run's cells, else measured now and written to the output
directory), then the reference's allocation (memory_usage.py).
For circuits whose ranks run out of memory before they run out of time.

Measuring: for every metype (memory_usage.py says what one is), up to SAMPLE_KINDS_PER_METYPE
of its cell kinds (the engine's kinds: template and morphology for hoc cells) are built, each
several times (dry_run.measure_cells), and the metype costs the mean of its kinds. The kinds
are shared out over the ranks, each measuring its share in its own process.
"""

import functools
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cost import KindGroup, afferent_synapse_counts, kind_groups
from .memory_usage import FILENAME, CellMemoryUsage, allocate, bucket_loads

log = logging.getLogger("neurodamus")
SAMPLE_KINDS_PER_METYPE = 3


def kind_label(kind) -> str:
    """template/morphology for hoc cells; the parts of other engines' kinds likewise."""
    parts = kind if isinstance(kind, tuple) else (kind,)
    return "/".join(str(part) for part in parts if part != "")


def _metypes(group: KindGroup) -> list[str]:
    names = set(group.population.storage.attribute_names)
    if {"mtype", "etype"} <= names:
        values = group.population.attributes(group.node_ids, ["mtype", "etype"])
        return [f"{m}-{e}" for m, e in zip(values["mtype"], values["etype"])]
    return [kind_label(kind) for kind in group.kinds]


@dataclass
class MemoryPlan:
    """The gids' cells by metype, and the kinds to build to know each metype's memory."""

    groups: list[KindGroup]
    keys: list  # per gid position: the identity of its kind (None: no engine builds it)
    metypes: list  # per gid position: its metype (None likewise)
    samples: dict  # kind identity -> (group, kind, node id): the kinds to build
    metype_kinds: dict  # metype -> [kind identities sampled]
    pop_metype_gids: dict  # population -> {metype: [node ids]}


def kind_identity(group: KindGroup, kind) -> tuple:
    """What decides a cell's memory: its engine, where its files come from and its kind (the
    same template and morphology in two populations is measured once)."""
    settings = group.population.settings
    where = repr((getattr(settings, "models_dir", None),
                  getattr(settings, "morphologies_dir", None),
                  sorted(getattr(settings, "alternate_morphologies", None) or {})))
    return (group.engine.name, where, kind)


def memory_plan(circuit, gids) -> MemoryPlan:
    gids = np.asarray(gids, np.int64)
    groups = kind_groups(circuit, gids)
    keys: list = [None] * gids.size
    metypes: list = [None] * gids.size
    samples: dict = {}
    metype_kinds: dict = defaultdict(list)
    by_population: dict = defaultdict(lambda: defaultdict(list))
    for group in groups:
        for position, node_id, kind, metype in zip(group.positions.tolist(),
                                                   group.node_ids.tolist(), group.kinds,
                                                   _metypes(group)):
            key = kind_identity(group, kind)
            keys[position], metypes[position] = key, metype
            by_population[group.population.name][metype].append(node_id)
            sampled = metype_kinds[metype]
            if key not in sampled and len(sampled) < SAMPLE_KINDS_PER_METYPE:
                sampled.append(key)
                samples.setdefault(key, (group, kind, node_id))
    pop_metype_gids = {pop: {metype: sorted(ids) for metype, ids in sorted(metypes_.items())}
                       for pop, metypes_ in by_population.items()}
    return MemoryPlan(groups, keys, metypes, samples, dict(metype_kinds), pop_metype_gids)


def memory_usage(plan: MemoryPlan, per_kind_mb: dict, synapse_counts) -> CellMemoryUsage:
    """The reference's record of `plan`'s cells: kB per cell of each metype (the mean of its
    sampled kinds) and its synapses per cell (summed over populations, as the reference
    sums them)."""
    metype_memory = {metype: 1024 * float(np.mean([per_kind_mb[k] for k in keys]))
                     for metype, keys in sorted(plan.metype_kinds.items())}
    counts: dict = defaultdict(list)  # (population, metype) -> synapses of each cell
    for group in plan.groups:
        for position in group.positions.tolist():
            counts[(group.population.name, plan.metypes[position])].append(
                float(synapse_counts[position]))
    average: dict = defaultdict(float)
    for (_, metype), values in counts.items():
        average[metype] += float(np.mean(values))
    return CellMemoryUsage(metype_memory, dict(sorted(average.items())), plan.pop_metype_gids)


def measure_kinds(h, pc, run_settings, samples,
                  isolated: bool = True) -> tuple[dict, dict, dict]:
    """({kind key: MB per cell}, {engine name: MB per synapse}, {kind key: MB its first
    cells cost in a process beyond the per-cell figure}) of `samples`. `isolated`:
    each kind measured in a forked copy of this process (dry_run.in_child says why; only
    where one process runs: forking an MPI rank can hang it); else one after the other
    here, the copies kept until all are measured (freed, the next kind would reuse them)."""
    from ..dry_run import FIRST_KIND_WARM_UP, in_child, measure_cells, measure_synapses

    built: list = []

    def measure(group, kind, node_id, synapse: bool):
        warm_up = 1 if built else FIRST_KIND_WARM_UP
        mb, cells, first = measure_cells(h, pc, run_settings, group, kind, node_id, warm_up)
        built.extend((group.engine, cell) for cell in cells)
        per_synapse = measure_synapses(h, pc, group.engine, cells[0])[0] if synapse else None
        return mb, per_synapse, first

    isolated = isolated and hasattr(os, "fork")
    per_kind: dict = {}
    per_synapse: dict = {}
    first_cells: dict = {}
    for key, (group, kind, node_id) in samples.items():
        synapse = group.engine.name not in per_synapse
        args = (group, kind, node_id, synapse)
        mb, synapse_mb, first = (in_child(functools.partial(measure, *args)) if isolated
                                 else measure(*args))
        per_kind[key] = mb
        first_cells[key] = 0.0 if isolated else first
        if synapse:
            per_synapse[group.engine.name] = synapse_mb
    if isolated and samples:
        # A forked child faults in the libraries' pages again as it runs their code: its
        # first cell would look MBs dearer than a fresh process's. The one-off is measured
        # here instead, once, on the first kind (measured now, nothing is left to disturb).
        key, (group, kind, node_id) = next(iter(samples.items()))
        _, cells, first_cells[key] = measure_cells(h, pc, run_settings, group, kind, node_id,
                                                   FIRST_KIND_WARM_UP)
        built.extend((group.engine, cell) for cell in cells)
    for engine, cell in built:
        engine.destroy(h, cell)
    return per_kind, per_synapse, first_cells


def measure_shared(h, parallel, settings, plan: MemoryPlan) -> tuple[dict, dict, dict]:
    """measure_kinds over `plan`'s samples, shared out over the ranks (collective); negative
    figures (a kind smaller than the allocator's noise) count as 0."""
    keys = sorted(plan.samples)[parallel.rank::parallel.size]
    mine = {key: plan.samples[key] for key in keys}
    per_kind: dict = {}
    per_synapse: dict = {}
    first_cells: dict = {}
    for kinds, synapses, firsts in parallel.allgather(parallel.agree(
            lambda: measure_kinds(h, parallel.pc, settings.run, mine,
                                  isolated=parallel.size == 1))):
        per_kind.update(kinds)
        per_synapse.update(synapses)
        first_cells.update(firsts)
    return ({k: max(v, 0.0) for k, v in per_kind.items()},
            {k: max(v, 0.0) for k, v in per_synapse.items()}, first_cells)


def usage_files(settings) -> list[Path]:
    """Where cell_memory_usage.json is looked for, in order: the working directory (where the
    reference simulator keeps it), then the run's output directory (where the dry run and
    an earlier Memory run leave it)."""
    return [Path.cwd() / FILENAME, Path(settings.output.output_dir) / FILENAME]


def _read_usage(paths: list[Path], current: CellMemoryUsage) -> CellMemoryUsage | None:
    """The first file's figures that describe these cells (else None, and why in the log)."""
    for path in paths:
        if not path.is_file():
            continue
        usage = CellMemoryUsage.read(path)
        if usage.describes(current):
            log.info("Memory per metype from %s", path)
            return usage
        log.warning("%s describes other cells (another circuit or node set): not used", path)
    return None


def memory_assignment(h, parallel, settings, circuit, gids, n_ranks: int):
    """(rank of each gid, its estimated MB with its synapses) (collective). Measured figures
    are written to the output directory."""
    gids = np.asarray(gids, np.int64)
    plan = memory_plan(circuit, gids)
    synapses = parallel.bcast(afferent_synapse_counts(settings, circuit, gids)
                              if parallel.is_root else None)
    current = memory_usage(plan, dict.fromkeys(plan.samples, 0.0), synapses)
    usage = parallel.bcast(_read_usage(usage_files(settings), current)
                           if parallel.is_root else None)
    if usage is None:
        per_kind, _, _ = measure_shared(h, parallel, settings, plan)
        usage = memory_usage(plan, per_kind, synapses)
        if parallel.is_root:
            path = usage_files(settings)[-1]
            path.parent.mkdir(parents=True, exist_ok=True)
            usage.write(path)
            log.info("Memory per metype written to %s", path)
    allocation = allocate(usage, n_ranks)
    ranks = np.full(gids.size, -1, np.int64)
    position = {int(g): i for i, g in enumerate(gids.tolist())}
    for population, buckets in allocation.items():
        offset = circuit.populations[population].offset
        for (rank, _), node_ids in buckets.items():
            for node_id in node_ids:
                ranks[position[offset + node_id]] = rank
    unplaced = np.flatnonzero(ranks < 0)  # cells no engine measures: round-robin
    ranks[unplaced] = np.arange(unplaced.size) % n_ranks
    loads = np.array(bucket_loads(usage, allocation, n_ranks)) / 1024
    return ranks, loads
