"""--dry-run: how much memory each rank would need, measured on samples instead of the whole
circuit.

For every metype (balance/memory_usage.py) a few of its cell kinds (as its cell engine
defines kinds: template and morphology for hoc cells) are built by their engine several
times and the growth of this process's resident memory is divided by the copies
(trimmed_resident_mb says how); the same for synapses (what one afferent
connection makes on a sample of each engine's cells, and its NetCon). The kinds are shared
out over the ranks. A rank then needs: the memory of a process with NEURON and the
mechanisms loaded (measured now) + the memory of its cells + of its synapses, for the
round-robin share of the requested rank count. The figures per metype are also written,
in the reference simulator's format, to cell_memory_usage.json beside dry_run.json, where
--lb-mode Memory reads them back (balance/memory.py).
"""

import ctypes
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from .balance import round_robin
from .balance.cost import afferent_synapse_counts
from .balance.memory import kind_label, measure_shared, memory_plan, memory_usage
from .balance.memory_usage import FILENAME
from .errors import NeurodamusError
from .outputs import final_name

log = logging.getLogger("neurodamus")
COPIES_PER_KIND = 10  # built at a time, until the process has grown by ENOUGH_GROWTH_MB
ENOUGH_GROWTH_MB = 4.0  # ~1000 pages: a page more or less is within 0.1%
MAX_COPIES_PER_KIND = 200  # small cells stop here (a few kB each)
FIRST_KIND_WARM_UP = 1 + COPIES_PER_KIND
SAMPLE_SYNAPSES = 5000


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _glibc_malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def trimmed_resident_mb() -> float:
    """The resident size after glibc has handed every free page back to the system. Why:
    what earlier work freed would be reused first, so a handful of cells built now would
    grow the resident size less than the same cells cost in a process building thousands;
    with the free pages gone, reusing them faults them in again and counts. (The bytes
    allocated, mallinfo, would count the untouched capacity of NEURON's growing arrays.)"""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    return resident_mb()


def measure_cells(h, pc, run_settings, group, kind, node_id, warm_up: int = 1):
    """MB per cell of this kind, the copies (kept: freeing them would let the next kind
    reuse their memory), and the MB the first copy cost beyond that (the first cell's
    one-off: the template, the kind's files, NEURON's first growth). `warm_up` copies are
    built first and not counted per cell: they load the template and read the kind's files,
    once per process, not per cell (the first kind a process builds warms up longer:
    NEURON's own first growth is no cell's). Then copies
    are built, ten at a time, until the growth is large against a page."""
    def build():
        return group.engine.sample(group.population, kind, node_id, h, pc, run_settings)

    start = trimmed_resident_mb()
    cells = [build()]
    first = trimmed_resident_mb() - start
    cells += [build() for _ in range(warm_up - 1)]
    before = trimmed_resident_mb()
    while True:
        cells += [build() for _ in range(COPIES_PER_KIND)]
        grown = trimmed_resident_mb() - before
        if grown >= ENOUGH_GROWTH_MB or len(cells) - warm_up >= MAX_COPIES_PER_KIND:
            per_cell = grown / (len(cells) - warm_up)
            return per_cell, cells, max(first - per_cell, 0.0)


def measure_synapses(h, pc, engine, cell):
    before = trimmed_resident_mb()
    keep = []
    for i in range(SAMPLE_SYNAPSES):
        target = engine.afferent(h, cell, i)
        netcon = pc.gid_connect(10**9 + i % 1000, target)
        keep.append((target, netcon))
    return (trimmed_resident_mb() - before) / SAMPLE_SYNAPSES, keep


def in_child(function):
    """function()'s result (JSON), computed in a forked copy of this process that then exits:
    each kind is measured from the same state, as a fresh process building only that kind
    would be (NEURON's arrays grow in steps: a kind measured after others, in one process,
    would fill room they left, or pay for a step that serves them all). The child never
    touches MPI, and leaves with os._exit (nothing of the parent's is flushed twice)."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            result = {"value": function()}
        except BaseException as error:  # noqa: BLE001  (handed to the parent)
            result = {"error": str(error), "user": isinstance(error, NeurodamusError)}
        with os.fdopen(write_end, "wb") as out:
            out.write(json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        data = source.read()
    os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the process measuring a cell kind died without an answer")
    result = json.loads(data)
    if "error" in result:
        raise (NeurodamusError if result["user"] else RuntimeError)(result["error"])
    return result["value"]


def first_cells_mb(keys, mine, first_cells: dict) -> float:
    """What a rank's first cells cost beyond the per-cell figures: loading the template,
    reading the kind's files, NEURON's first growth of its arrays. Paid once by a process,
    whatever its cell count, so counted once per rank that builds cells: the largest such
    cost among the kinds it builds (a kind's measurement includes the growth every kind
    shares). Small circuits are dominated by it (a few cells of one template cost about
    1 MB, not their few kB each); large ones hardly notice it."""
    costs = [first_cells.get(key, 0.0) for key, here in zip(keys, mine)
             if here and key is not None]
    return max(costs, default=0.0)


def estimate_memory(h, parallel, settings, circuit, n_ranks=None, output_dir=None) -> dict:
    """Measured on all ranks, printed on rank 0; returns the estimate (on rank 0). dry_run.json
    goes into `output_dir` (the run's staging directory) or else output.output_dir."""
    n_ranks = n_ranks or parallel.size
    gids = circuit.target_gids(settings.node_set)
    plan = memory_plan(circuit, gids)
    baseline = parallel.bcast(resident_mb() if parallel.is_root else None)
    per_kind, per_synapse, first_cells = measure_shared(h, parallel, settings, plan)
    if not parallel.is_root:
        return {}
    synapse_counts = afferent_synapse_counts(settings, circuit, gids)
    usage = memory_usage(plan, per_kind, synapse_counts)
    per_metype = {metype: kb / 1024 for metype, kb in usage.metype_memory.items()}
    cell_mb = np.array([0.0 if key is None else per_kind.get(key, per_metype[metype])
                        for key, metype in zip(plan.keys, plan.metypes)])
    built = [key is not None for key in plan.keys]
    typical = float(cell_mb[built].mean()) if any(built) else 0.0
    typical_synapse = float(np.mean(list(per_synapse.values()))) if per_synapse else 0.0
    synapse_mb = np.zeros(len(gids))
    for group in plan.groups:
        synapse_mb[group.positions] = per_synapse.get(group.engine.name, typical_synapse)
    synapse_mb *= synapse_counts
    total_synapses = float(synapse_counts.sum())
    mean_synapse = float(synapse_mb.sum()) / total_synapses if total_synapses else typical_synapse
    ranks = []
    starts = list(circuit.offsets().values())
    for rank in range(n_ranks):
        mine = np.isin(gids, round_robin(gids, n_ranks, rank, starts))
        cells = first_cells_mb(plan.keys, mine, first_cells) + float(cell_mb[mine].sum())
        ranks.append({"rank": rank, "cells": int(mine.sum()), "cells_mb": cells,
                      "synapses": int(synapse_counts[mine].sum()),
                      "memory_mb": baseline + cells + float(synapse_mb[mine].sum())})
    estimate = {"ranks": n_ranks, "baseline_mb": baseline,
                "cells_mb": sum(r["cells_mb"] for r in ranks),
                "per_synapse_kb": mean_synapse * 1024,
                "per_cell_mb": {kind_label(kind): v for (_, _, kind), v in per_kind.items()},
                "per_metype_mb": per_metype,
                "per_rank": ranks, "max_rank_mb": max(r["memory_mb"] for r in ranks)}
    lines = [f"Dry run for {n_ranks} rank(s): {len(gids)} cells, "
             f"{int(synapse_counts.sum())} synapses",
             (f"  process with NEURON and mechanisms: {baseline:.0f} MB; per synapse "
              f"{mean_synapse * 1024:.2f} kB; per cell {typical:.2f} MB (typical); cells "
              f"{estimate['cells_mb']:.2f} MB in all (with each rank's first-cells one-off)"),
             f"  {'rank':>6}{'cells':>10}{'synapses':>12}{'memory [MB]':>14}"]
    shown = ranks if n_ranks <= 16 else ranks[:8] + ranks[-8:]
    lines += [f"  {r['rank']:>6}{r['cells']:>10}{r['synapses']:>12}{r['memory_mb']:>14.0f}"
              for r in shown]
    lines.append(f"  largest rank needs about {estimate['max_rank_mb']:.0f} MB")
    log.info("\n".join(lines))
    output = Path(output_dir or settings.output.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "dry_run.json").write_text(json.dumps(estimate, indent=2))
    usage.write(output / FILENAME)
    log.info("Memory per metype written to %s (read back by --lb-mode Memory from the output "
             "directory or the working directory)", final_name(output / FILENAME))
    return estimate
