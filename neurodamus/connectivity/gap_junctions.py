"""Gap junctions: edge populations of type `electrical`.

Each edge is one half-junction: an NdGap on its target at the afferent location, with
the edge's conductance, driven by the voltage of its source at the efferent location
(soma centre when the edges do not give it). Both directions of a junction are edges of
their own. Voltages are exchanged, also across ranks, with ParallelContext
source_var/target_var, keyed by the edge: key = population base + edge id.
"""

import libsonata
import numpy as np

from ..errors import CircuitError


def transfer_keys(edge_populations) -> dict:
    """A base per electrical edge population so that keys never collide across populations."""
    bases, base = {}, 0
    for settings in sorted(edge_populations, key=lambda e: e.name):
        if settings.type != "electrical":
            continue
        bases[settings.name] = base
        population = libsonata.EdgeStorage(str(settings.edges_file)).open_population(settings.name)
        base += population.size
    return bases


def _location(cell, section_ids, positions, i):
    if section_ids is None:
        return cell.soma(0.5)
    return cell.section(int(section_ids[i]))(float(positions[i]))


def _read(population, selection, names):
    available = set(population.attribute_names)
    return {name: np.asarray(population.get_attribute(name, selection)) if name in available
            else None for name in names}


def connect_gap_junctions(settings, key_base, cells_by_population, h, pc) -> int:
    """Create the half-junctions on local targets and publish local source voltages."""
    population = libsonata.EdgeStorage(str(settings.edges_file)).open_population(settings.name)
    if "conductance" not in population.attribute_names:
        raise CircuitError("electrical edges need 'conductance'", population=settings.name,
                           file=settings.edges_file)
    count = 0
    targets = cells_by_population.get(settings.target, {})
    if targets:
        selection = population.afferent_edges(sorted(targets))
        data = _read(population, selection, ["afferent_section_id", "afferent_section_pos",
                                             "conductance"])
        edge_ids = np.asarray(selection.flatten(), np.int64)
        target_ids = np.asarray(population.target_nodes(selection), np.int64)
        for i, edge_id in enumerate(edge_ids):
            cell = targets[int(target_ids[i])]
            gap = h.NdGap(_location(cell, data["afferent_section_id"], data["afferent_section_pos"], i))
            gap.g = 0.001 * float(data["conductance"][i])  # nS -> uS
            pc.target_var(gap, gap._ref_vgap, int(key_base + edge_id))
            cell.gap_junctions.append((int(key_base + edge_id), gap))
            count += 1
    sources = cells_by_population.get(settings.source, {})
    if sources:
        selection = population.efferent_edges(sorted(sources))
        data = _read(population, selection, ["efferent_section_id", "efferent_section_pos"])
        edge_ids = np.asarray(selection.flatten(), np.int64)
        source_ids = np.asarray(population.source_nodes(selection), np.int64)
        for i, edge_id in enumerate(edge_ids):
            cell = sources[int(source_ids[i])]
            segment = _location(cell, data["efferent_section_id"], data["efferent_section_pos"], i)
            pc.source_var(segment._ref_v, int(key_base + edge_id), sec=segment.sec)
    return count
