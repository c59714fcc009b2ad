"""The cost of a cell for load balancing, with NEURON's own complexity measure.

NEURON's LoadBalance.cell_complexity counts the work per segment of every mechanism and
point process. Every cell of the same template and morphology costs the same, so one
sample per (template, morphology) is built and measured (the samples are shared out over
the ranks), plus the cost of one synapse of each kind, measured the same way; a cell
costs its sample's complexity plus its synapses'.
"""

import libsonata
import numpy as np

from ..cells.morphology import find_morphology, readable_morphology
from ..cells.templates import find_template, load_template, sample_arguments, template_name
from ..resources import hoc_dir

SYNAPSE_KINDS = ("NdTmExc", "NdTmInh")


def afferent_synapse_counts(settings, circuit, gids) -> np.ndarray:
    """Chemical synapses onto each gid, counted from the edges' target ids."""
    gids = np.asarray(gids, np.int64)
    counts = np.zeros(gids.size, float)
    for edges in settings.circuit.edge_populations:
        if edges.type != "chemical":
            continue
        population = libsonata.EdgeStorage(str(edges.edges_file)).open_population(edges.name)
        targets = np.asarray(population.target_nodes(population.select_all()), np.int64)
        target = circuit.populations[edges.target]
        per_node = np.bincount(targets, minlength=target.size)
        mine = (gids >= target.offset) & (gids < target.offset + target.size)
        counts[mine] += per_node[gids[mine] - target.offset]
    return counts


def cell_kinds(circuit, gids):
    """(template, morphology path, population name) of every gid."""
    kinds = []
    for population in circuit.populations.values():
        mask = (gids >= population.offset) & (gids < population.offset + population.size)
        if not mask.any():
            continue
        values = population.attributes(population.node_ids(gids[mask]),
                                       ["model_template", "morphology"])
        for template, morphology in zip(values["model_template"], values["morphology"]):
            kinds.append((template_name(template, population.name), morphology, population.name))
    return kinds


def measure_complexities(h, circuit, samples) -> dict:
    """{(template, morphology): complexity} for the given samples, built here one by one."""
    h.load_file("loadbal.hoc")
    if not hasattr(h, "nd_load_morphology"):
        h.load_file(str(hoc_dir() / "nd_morphology.hoc"))
    balance = h.LoadBalance()
    out = {}
    for template, morphology, population_name in samples:
        settings = circuit.populations[population_name].settings
        load_template(h, h.ParallelContext(), template,
                      find_template(template, settings.models_dir, population_name), population_name)
        path = readable_morphology(find_morphology(settings, morphology))
        cell = getattr(h, template)(-1, str(path.parent), path.name,
                                    *sample_arguments(h, template))
        out[(template, morphology)] = float(balance.cell_complexity(cell))
        if (None, "synapse") not in out:
            before = balance.cell_complexity(cell)
            keep = [getattr(h, kind)(cell.soma[0](0.5)) for kind in SYNAPSE_KINDS]
            out[(None, "synapse")] = float(balance.cell_complexity(cell) - before) / len(keep)
        del cell
    return out


def cell_costs(h, parallel, settings, circuit, gids) -> np.ndarray:
    """Cost of every gid (collective: samples are measured on all ranks, results shared)."""
    gids = np.asarray(gids, np.int64)
    kinds = cell_kinds(circuit, np.sort(gids)) if len(gids) else []
    order = np.argsort(gids)
    unique = sorted({(t, m, p) for t, m, p in kinds})
    mine = unique[parallel.rank::parallel.size]
    measured = {}
    for part in parallel.allgather(measure_complexities(h, circuit, mine) if mine else {}):
        measured.update(part)
    synapse_cost = measured.get((None, "synapse"), 1.0)
    base = np.empty(len(gids))
    base[order] = [measured[(t, m)] for t, m, _ in kinds]
    synapses = afferent_synapse_counts(settings, circuit, gids) if parallel.is_root else None
    synapses = parallel.bcast(synapses)
    return base + synapse_cost * synapses
