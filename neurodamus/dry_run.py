"""--dry-run: how much memory each rank would need, measured on samples instead of the whole
circuit.

Each distinct (template, morphology) is instantiated a few times and the growth of this
process's resident memory is divided by the copies; the same for synapses (mechanism and
NetCon). A rank then needs: the memory of a process with NEURON and the mechanisms loaded
(measured now) + the memory of its cells + of its synapses, for the round-robin share of
the requested rank count.
"""

import json
import logging
import os
from collections import Counter

import numpy as np

from .balance import round_robin
from .balance.cost import afferent_synapse_counts, cell_kinds
from .cells.morphology import find_morphology, readable_morphology
from .cells.templates import find_template, load_template, sample_arguments
from .resources import hoc_dir

log = logging.getLogger("neurodamus")
COPIES_PER_KIND = 10
SAMPLE_SYNAPSES = 5000
MAX_KINDS_MEASURED = 40


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure_cells(h, circuit, kind):
    template, morphology, population = kind
    settings = circuit.populations[population].settings
    load_template(h, h.ParallelContext(), template,
                  find_template(template, settings.models_dir, population), population)
    path = readable_morphology(find_morphology(settings, morphology))
    extra = sample_arguments(h, template)
    before = resident_mb()
    cells = [getattr(h, template)(-1, str(path.parent), path.name, *extra)
             for _ in range(COPIES_PER_KIND)]
    per_cell = (resident_mb() - before) / COPIES_PER_KIND
    return per_cell, cells


def _measure_synapses(h, pc, cell):
    before = resident_mb()
    keep = []
    for i in range(SAMPLE_SYNAPSES):
        synapse = (h.NdTmExc if i % 5 else h.NdTmInh)(cell.soma[0](0.5))
        netcon = pc.gid_connect(10**9 + i % 1000, synapse)
        keep.append((synapse, netcon))
    return (resident_mb() - before) / SAMPLE_SYNAPSES, keep


def estimate_memory(h, parallel, settings, circuit, n_ranks=None) -> dict:
    """Measured on rank 0 and printed there; returns the estimate (on rank 0)."""
    n_ranks = n_ranks or parallel.size
    if not parallel.is_root:
        return {}
    if not hasattr(h, "nd_load_morphology"):
        h.load_file(str(hoc_dir() / "nd_morphology.hoc"))
    gids = circuit.target_gids(settings.node_set)
    kinds = cell_kinds(circuit, gids)
    counts = Counter(kinds)
    baseline = resident_mb()
    per_kind, keep = {}, []
    for kind, _ in counts.most_common(MAX_KINDS_MEASURED):
        per_kind[kind], cells = _measure_cells(h, circuit, kind)
        keep.extend(cells)
    typical = float(np.average(list(per_kind.values()),
                               weights=[counts[k] for k in per_kind]))
    per_synapse, synapses = _measure_synapses(h, parallel.pc, keep[0])
    synapse_counts = afferent_synapse_counts(settings, circuit, gids)
    cell_mb = np.array([per_kind.get(kind, typical) for kind in kinds])
    ranks = []
    for rank in range(n_ranks):
        mine = np.isin(gids, round_robin(gids, n_ranks, rank))
        ranks.append({"rank": rank, "cells": int(mine.sum()),
                      "synapses": int(synapse_counts[mine].sum()),
                      "memory_mb": baseline + float(cell_mb[mine].sum())
                      + per_synapse * float(synapse_counts[mine].sum())})
    estimate = {"ranks": n_ranks, "baseline_mb": baseline, "per_synapse_kb": per_synapse * 1024,
                "per_cell_mb": {f"{t}/{m}": v for (t, m, _), v in per_kind.items()},
                "per_rank": ranks, "max_rank_mb": max(r["memory_mb"] for r in ranks)}
    lines = [f"Dry run for {n_ranks} rank(s): {len(gids)} cells, {int(synapse_counts.sum())} synapses",
             f"  process with NEURON and mechanisms: {baseline:.0f} MB; per synapse "
             f"{per_synapse * 1024:.2f} kB; per cell {typical:.2f} MB (typical)",
             f"  {'rank':>6}{'cells':>10}{'synapses':>12}{'memory [MB]':>14}"]
    shown = ranks if n_ranks <= 16 else ranks[:8] + ranks[-8:]
    lines += [f"  {r['rank']:>6}{r['cells']:>10}{r['synapses']:>12}{r['memory_mb']:>14.0f}"
              for r in shown]
    lines.append(f"  largest rank needs about {estimate['max_rank_mb']:.0f} MB")
    log.info("\n".join(lines))
    output = settings.output.output_dir
    output.mkdir(parents=True, exist_ok=True)
    (output / "dry_run.json").write_text(json.dumps(estimate, indent=2))
    del synapses, keep
    return estimate
