"""Gap junctions: edge populations of type `electrical`.

Each edge is one half-junction: the circuit's gap mechanism (BBP's `Gap`) when loaded, else
our NdGap, on its target at the afferent location, with the edge's conductance, driven by
the voltage of its source at the efferent location (soma centre when the edges do not give
it). Both directions of a junction are edges of
their own. Voltages are exchanged, also across ranks, with ParallelContext
source_var/target_var, keyed by the edge: key = population base + edge id.
"""

from dataclasses import dataclass

import libsonata
import numpy as np

from ..errors import CircuitError
from ..validation import check_edge_values, check_section_ids
from .synapses import segment_position


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


@dataclass(frozen=True)
class GapModel:
    """A half-junction mechanism: `g (v - vgap)`; its g is `per_nanosiemens` x the edge's
    conductance in nS."""

    mechanism: str
    per_nanosiemens: float


# The circuit's own mechanism when loaded (BBP's `Gap`, g in nS), else ours (g in uS).
GAP_MODELS = (GapModel("Gap", 1.0), GapModel("NdGap", 1e-3))


def gap_model(h) -> GapModel:
    return next(model for model in GAP_MODELS if hasattr(h, model.mechanism))


def _location(cell, data, side: str, i):
    """The segment at the edge's `side` (afferent/efferent) location: section id with
    section_pos, else segment id and offset, else the soma centre."""
    section_ids = data[f"{side}_section_id"]
    if section_ids is None:
        return cell.soma(0.5)
    section = cell.section(int(section_ids[i]))
    if data[f"{side}_section_pos"] is not None:
        return section(float(data[f"{side}_section_pos"][i]))
    if data[f"{side}_segment_id"] is not None:
        return section(segment_position(section, int(data[f"{side}_segment_id"][i]),
                                        float(data[f"{side}_segment_offset"][i])))
    return section(0.5)


def _read(population, selection, names):
    available = set(population.attribute_names)
    return {name: np.asarray(population.get_attribute(name, selection)) if name in available
            else None for name in names}


def _location_names(side: str) -> list[str]:
    return [f"{side}_{name}" for name in ("section_id", "section_pos", "segment_id",
                                           "segment_offset")]


def _check(settings, edge_ids, node_ids, data, side: str, cells_by_node_id):
    """Values finite and section ids on their cells, before any half-junction is made."""
    values = {name: array for name, array in data.items() if array is not None
              and not name.endswith("section_id")}
    check_edge_values(settings.edges_file, settings.name, edge_ids, values, dt=0.0)
    if data[f"{side}_section_id"] is not None:
        check_section_ids(settings.edges_file, settings.name, edge_ids, node_ids,
                          data[f"{side}_section_id"], cells_by_node_id,
                          attribute=f"{side}_section_id")


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
        data = _read(population, selection, _location_names("afferent") + ["conductance"])
        edge_ids = np.asarray(selection.flatten(), np.int64)
        target_ids = np.asarray(population.target_nodes(selection), np.int64)
        _check(settings, edge_ids, target_ids, data, "afferent", targets)
        model = gap_model(h)
        for i, edge_id in enumerate(edge_ids):
            cell = targets[int(target_ids[i])]
            gap = getattr(h, model.mechanism)(_location(cell, data, "afferent", i))
            gap.g = model.per_nanosiemens * float(data["conductance"][i])
            pc.target_var(gap, gap._ref_vgap, int(key_base + edge_id))
            cell.gap_junctions.append((int(key_base + edge_id), gap))
            count += 1
    sources = cells_by_population.get(settings.source, {})
    if sources:
        selection = population.efferent_edges(sorted(sources))
        data = _read(population, selection, _location_names("efferent"))
        edge_ids = np.asarray(selection.flatten(), np.int64)
        source_ids = np.asarray(population.source_nodes(selection), np.int64)
        _check(settings, edge_ids, source_ids, data, "efferent", sources)
        for i, edge_id in enumerate(edge_ids):
            cell = sources[int(source_ids[i])]
            segment = _location(cell, data, "efferent", i)
            pc.source_var(segment._ref_v, int(key_base + edge_id), sec=segment.sec)
    return count
