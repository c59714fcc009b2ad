"""What a run writes at its end, into the staging directory of outputs.py: the spike file,
`populations_offset.dat` and `distribution.json` (the `outputs` phase), then the timings and
`run_summary.json`, and the commit that moves every staged output into place (rank 0,
through parallel.agree, so a full disk is one message on every rank).
"""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .outputs import OutputArea, writing
from .reports import write_spikes, write_spikes_csv

log = logging.getLogger("neurodamus")
SUMMARY_FILE = "run_summary.json"
DISTRIBUTION_FILE = "distribution.json"


@dataclass
class Summary:
    cells: int = 0
    synapses: int = 0
    spikes: int = 0
    wall_time: float = 0.0
    ranks: int = 1
    output_dir: Path | None = None
    spikes_file: Path | None = None
    cells_per_rank: list = field(default_factory=list)
    early: bool = False  # stopped after balancing or the dry run: nothing was simulated
    synapses_per_rank: list | None = None  # rank 0 (run_summary.json)


def write_outputs(model, settings, parallel, area: OutputArea, spikes_before) -> Summary:
    """All ranks: the spikes of every rank (after `spikes_before`, those of a restored run)
    gathered and written by rank 0 per population, with the offsets and the distribution."""
    model.reports.finalize()
    times, gids = model.spike_recorder.local_spikes()
    gathered = parallel.gather((times, gids))
    local_gids = [c.gid for c in model.cells]
    distribution = parallel.gather(local_gids)
    synapses = parallel.allreduce_sum(model.connections.synapses)
    output = settings.output
    summary = Summary(cells=model.target.count, synapses=synapses, ranks=parallel.size,
                      output_dir=output.output_dir,
                      spikes_file=output.output_dir / output.spikes_file,
                      synapses_per_rank=parallel.gather(model.connections.synapses))
    if not parallel.is_root:
        return summary
    all_times = np.concatenate([spikes_before[0]] + [t for t, _ in gathered])
    all_gids = np.concatenate([spikes_before[1]] + [g for _, g in gathered])
    by_population = {}
    circuit = model.circuit
    for population in circuit.populations.values():
        if population.is_virtual:
            continue
        end = population.offset + population.size
        mask = (all_gids >= population.offset) & (all_gids < end)
        by_population[population.name] = (all_times[mask], population.node_ids(all_gids[mask]))
    with writing(area.path(output.spikes_file)):
        write_spikes(area.path(output.spikes_file), by_population, output.spikes_sort_order)
    if output.spikes_file_csv:
        with writing(area.path(output.spikes_file_csv)):
            write_spikes_csv(area.path(output.spikes_file_csv), by_population,
                             output.spikes_sort_order)
    with writing(area.path("populations_offset.dat")):
        circuit.write_offsets(area.staging)
    with writing(area.path(DISTRIBUTION_FILE)):
        area.path(DISTRIBUTION_FILE).write_text(json.dumps(
            {"ranks": parallel.size, "gids_by_rank": distribution}))
    summary.spikes = int(all_times.size)
    summary.cells_per_rank = [len(d) for d in distribution]
    return summary


def finish(parallel, timings, area: OutputArea, summary: Summary, solver_seconds: float,
           facts: dict):
    """All ranks: the timings table (rank 0's log), run_summary.json (`facts`: the simulator,
    load balance, cell engines, model stats and synapse models, in the order written), the
    commit."""
    peaks = parallel.gather([memory for _, _, memory in timings.phases])
    walls = [parallel.allreduce_max(wall) for _, wall, _ in timings.phases]
    solver = parallel.allreduce_max(solver_seconds)
    if not parallel.is_root:
        parallel.agree(commit, parallel, area)
        return
    table = timings.table(peaks, walls)
    log.info("Timings:\n%s", table)
    record = {
        "cells": summary.cells, "synapses": summary.synapses, "spikes": summary.spikes,
        "ranks": summary.ranks, "cells_per_rank": summary.cells_per_rank,
        "synapses_per_rank": summary.synapses_per_rank, **facts,
        "solver_seconds": solver, "peak_memory_mb_per_rank": [max(p) for p in peaks],
        "wall_time": summary.wall_time, "spikes_file": str(summary.spikes_file),
        "phases": [{"name": name, "wall": walls[i], "peak_memory_mb": max(p[i] for p in peaks)}
                   for i, (name, _, _) in enumerate(timings.phases)],
        "outputs": [str(name) for name in area.staged_files()] + [SUMMARY_FILE],
    }
    parallel.agree(commit, parallel, area, record)


def finish_early(parallel, area: OutputArea, output_dir, cells: int) -> Summary:
    """A run that stops before simulating (--num-target-ranks, --dry-run, --simulate-model
    OFF): what it staged is committed, without a run_summary.json."""
    parallel.agree(commit, parallel, area)
    summary = Summary(cells=cells, ranks=parallel.size, output_dir=output_dir)
    summary.early = True
    return summary


def commit(parallel, area: OutputArea, record: dict | None = None):
    """Rank 0: run_summary.json (the last file written), then every staged output moved
    into place (see outputs.py); collective through agree, so a full disk is one message."""
    if not parallel.is_root:
        return
    if record is not None:
        with writing(area.path(SUMMARY_FILE)):
            area.path(SUMMARY_FILE).write_text(json.dumps(record, indent=2))
    area.commit(SUMMARY_FILE)
