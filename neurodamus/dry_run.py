"""--dry-run: how much memory each rank would need, measured on samples instead of the whole
circuit.

Each distinct kind of cell (as its cell engine defines kinds: template and morphology for
hoc cells, and so on) is built by its engine a few times and the growth of this process's
resident memory is divided by the copies; the same for synapses (what one afferent
connection makes on a sample of each engine's cells, and its NetCon). A rank then needs:
the memory of a process with NEURON and the mechanisms loaded (measured now) + the memory
of its cells + of its synapses, for the round-robin share of the requested rank count.
"""

import json
import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np

from .balance import round_robin
from .balance.cost import afferent_synapse_counts, first_nodes, kind_groups

log = logging.getLogger("neurodamus")
COPIES_PER_KIND = 10
SAMPLE_SYNAPSES = 5000
MAX_KINDS_MEASURED = 40


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def kind_label(kind) -> str:
    """template/morphology for hoc cells; the parts of other engines' kinds likewise."""
    parts = kind if isinstance(kind, tuple) else (kind,)
    return "/".join(str(part) for part in parts if part != "")


def measure_cells(h, pc, run_settings, group, kind, node_id):
    """MB per cell of this kind, and the copies (kept: freeing them would let the next kind
    reuse their memory). One copy is built first and not counted: it loads the template
    and reads the kind's files."""
    def build():
        return group.engine.sample(group.population, kind, node_id, h, pc, run_settings)

    cells = [build()]
    before = resident_mb()
    cells += [build() for _ in range(COPIES_PER_KIND)]
    return (resident_mb() - before) / COPIES_PER_KIND, cells


def measure_synapses(h, pc, engine, cell):
    before = resident_mb()
    keep = []
    for i in range(SAMPLE_SYNAPSES):
        target = engine.afferent(h, cell, i)
        netcon = pc.gid_connect(10**9 + i % 1000, target)
        keep.append((target, netcon))
    return (resident_mb() - before) / SAMPLE_SYNAPSES, keep


def estimate_memory(h, parallel, settings, circuit, n_ranks=None, output_dir=None) -> dict:
    """Measured on rank 0 and printed there; returns the estimate (on rank 0). dry_run.json
    goes into `output_dir` (the run's staging directory) or else output.output_dir."""
    n_ranks = n_ranks or parallel.size
    if not parallel.is_root:
        return {}
    gids = circuit.target_gids(settings.node_set)
    groups = kind_groups(circuit, gids)
    keys = [None] * len(gids)
    for group in groups:
        for position, kind in zip(group.positions.tolist(), group.kinds):
            keys[position] = group.key(kind)
    counts = Counter(key for key in keys if key is not None)
    first = first_nodes(groups)
    baseline = resident_mb()
    per_kind: dict = {}
    samples: list = []  # (engine, cell)
    for key, _ in counts.most_common(MAX_KINDS_MEASURED):
        group, kind, node_id = first[key]
        per_kind[key], cells = measure_cells(h, parallel.pc, settings.run, group, kind, node_id)
        samples += [(group.engine, cell) for cell in cells]
    per_synapse, synapses = {}, []  # per engine, on its first sample
    for engine, cell in samples:
        if engine not in per_synapse:
            per_synapse[engine], made = measure_synapses(h, parallel.pc, engine, cell)
            synapses += made
    typical = float(np.average(list(per_kind.values()),
                               weights=[counts[k] for k in per_kind]))
    typical_synapse = float(np.mean(list(per_synapse.values())))
    synapse_counts = afferent_synapse_counts(settings, circuit, gids)
    cell_mb = np.array([0.0 if key is None else per_kind.get(key, typical) for key in keys])
    synapse_mb = np.zeros(len(gids))
    for group in groups:
        synapse_mb[group.positions] = per_synapse.get(group.engine, typical_synapse)
    synapse_mb *= synapse_counts
    total_synapses = float(synapse_counts.sum())
    mean_synapse = float(synapse_mb.sum()) / total_synapses if total_synapses else typical_synapse
    ranks = []
    for rank in range(n_ranks):
        mine = np.isin(gids, round_robin(gids, n_ranks, rank))
        ranks.append({"rank": rank, "cells": int(mine.sum()),
                      "synapses": int(synapse_counts[mine].sum()),
                      "memory_mb": baseline + float(cell_mb[mine].sum())
                      + float(synapse_mb[mine].sum())})
    estimate = {"ranks": n_ranks, "baseline_mb": baseline, "per_synapse_kb": mean_synapse * 1024,
                "per_cell_mb": {kind_label(kind): v for (_, _, kind), v in per_kind.items()},
                "per_rank": ranks, "max_rank_mb": max(r["memory_mb"] for r in ranks)}
    lines = [f"Dry run for {n_ranks} rank(s): {len(gids)} cells, "
             f"{int(synapse_counts.sum())} synapses",
             (f"  process with NEURON and mechanisms: {baseline:.0f} MB; per synapse "
              f"{mean_synapse * 1024:.2f} kB; per cell {typical:.2f} MB (typical)"),
             f"  {'rank':>6}{'cells':>10}{'synapses':>12}{'memory [MB]':>14}"]
    shown = ranks if n_ranks <= 16 else ranks[:8] + ranks[-8:]
    lines += [f"  {r['rank']:>6}{r['cells']:>10}{r['synapses']:>12}{r['memory_mb']:>14.0f}"
              for r in shown]
    lines.append(f"  largest rank needs about {estimate['max_rank_mb']:.0f} MB")
    log.info("\n".join(lines))
    output = Path(output_dir or settings.output.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "dry_run.json").write_text(json.dumps(estimate, indent=2))
    del synapses
    for engine, cell in samples:
        engine.destroy(h, cell)
    return estimate
