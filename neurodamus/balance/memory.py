"""Memory load balancing (--lb-mode Memory): each cell costs the memory its kind takes, as the
dry run measures it (several copies of a sample built, the growth of the process divided by
the copies), plus its afferent synapses' memory; then largest first onto the least loaded
rank. For circuits whose ranks run out of memory before they run out of time.

Cells of one kind cost the same. The kinds are shared out over the ranks, each measuring
its share in its own process, and the results shared.
"""

import numpy as np

from .cost import afferent_synapse_counts, first_nodes, kind_groups

MINIMUM_CELL_MB = 1e-3  # resident memory grows by pages: a tiny kind may measure 0


def _measure(h, pc, run_settings, samples) -> tuple[dict, dict]:
    """({kind key: MB per cell}, {engine name: MB per synapse}) of `samples`."""
    from ..dry_run import measure_cells, measure_synapses

    per_kind, per_synapse, built = {}, {}, []
    for key, (group, kind, node_id) in samples.items():
        per_kind[key], cells = measure_cells(h, pc, run_settings, group, kind, node_id)
        built += [(group.engine, cell) for cell in cells]
        if group.engine.name not in per_synapse:
            per_synapse[group.engine.name], synapses = measure_synapses(h, pc, group.engine,
                                                                        cells[0])
            del synapses
    for engine, cell in built:
        engine.destroy(h, cell)
    return per_kind, per_synapse


def memory_costs(h, parallel, settings, circuit, gids) -> np.ndarray:
    """Estimated MB of every gid (collective)."""
    gids = np.asarray(gids, np.int64)
    groups = kind_groups(circuit, gids)
    wanted = first_nodes(groups)
    mine = {key: wanted[key] for key in sorted(wanted)[parallel.rank::parallel.size]}
    result = parallel.agree(lambda: _measure(h, parallel.pc, settings.run, mine))
    per_kind, per_synapse = {}, {}
    for kinds, synapses in parallel.allgather(result):
        per_kind.update(kinds)
        per_synapse.update(synapses)
    typical_synapse = float(np.mean(list(per_synapse.values()))) if per_synapse else 0.0
    cell_mb, synapse_mb = np.zeros(gids.size), np.zeros(gids.size)
    for group in groups:
        cell_mb[group.positions] = [max(per_kind[group.key(kind)], MINIMUM_CELL_MB)
                                    for kind in group.kinds]
        synapse_mb[group.positions] = max(per_synapse.get(group.engine.name, typical_synapse), 0.0)
    synapses = afferent_synapse_counts(settings, circuit, gids) if parallel.is_root else None
    return cell_mb + synapse_mb * parallel.bcast(synapses)
