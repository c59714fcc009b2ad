"""Edge populations of type `neuromodulatory`: each edge makes no synapse of its own but
reaches the cell's closest chemical synapse on the same section (within 0.05 of the section
length), as the reference simulator does. Its events come from `synapse_replay` of its
(virtual) sources, on a NetCon of weight [1, neuromod_strength, neuromod_dtc] with the
synapse's NetCon-type slot (the mechanism's global `nc_type_param`) set to 10, so that
mechanisms that know neuromodulation can tell these events apart.

connection_overrides may replace neuromod_strength / neuromod_dtc (neuromodulation_strength
/ neuromodulation_dtc) and switch the events off (weight 0).
"""

import logging
from dataclasses import dataclass

import libsonata
import numpy as np

from ..errors import CircuitError
from .delays import whole_steps
from .synapse_models import netcon_type_slot
from .synapses import inside_section, segment_position

log = logging.getLogger(__name__)
CLOSEST_WITHIN = 0.05  # of the section length
NEUROMODULATOR_NETCON_TYPE = 10
ATTRIBUTES = ("neuromod_strength", "neuromod_dtc", "delay", "afferent_section_id")


@dataclass(frozen=True)
class ModulationOverride:
    """What one connection override says about neuromodulatory events (None: nothing)."""

    sources: frozenset
    targets: frozenset
    strength: float | None
    dtc: float | None
    enabled: bool | None


@dataclass
class Modulator:
    """One neuromodulatory edge attached to a local synapse (replay drives `netcon`)."""

    edge_population: str
    edge_id: int
    source_gid: int
    netcon: object


def _locations(population, selection):
    """Per edge, how to find its position: ('pos', array) or ('segment', ids, offsets)."""
    names = set(population.attribute_names)
    if "afferent_section_pos" in names:
        return ("pos", np.asarray(population.get_attribute("afferent_section_pos", selection)))
    if {"afferent_segment_id", "afferent_segment_offset"} <= names:
        return ("segment",
                np.asarray(population.get_attribute("afferent_segment_id", selection)),
                np.asarray(population.get_attribute("afferent_segment_offset", selection)))
    return ("middle",)


def _position(cell, section_id: int, where, i) -> float:
    if where[0] == "pos":
        return inside_section(float(where[1][i]))
    if where[0] == "segment":
        return segment_position(cell.section(section_id), int(where[1][i]), float(where[2][i]))
    return 0.5


def closest_synapse(cell, section_id: int, location: float):
    best, distance = None, CLOSEST_WITHIN
    for synapse in cell.synapses:
        if synapse.section_id != section_id:
            continue
        difference = abs(synapse.location - location)
        if difference < distance:
            best, distance = synapse, difference
    return best


def connect_neuromodulation(edge_settings, cells_by_node_id: dict, source_offset: int, h,
                            overrides, dt: float) -> list[Modulator]:
    """Attach the neuromodulatory edges onto the local cells' synapses (delays in whole
    steps of `dt`, as the reference reads them: delays.py)."""
    storage = libsonata.EdgeStorage(str(edge_settings.edges_file))
    population = storage.open_population(edge_settings.name)
    missing = [a for a in ATTRIBUTES if a not in population.attribute_names]
    if missing:
        raise CircuitError(f"neuromodulatory edges need attribute '{missing[0]}'",
                           population=edge_settings.name, file=edge_settings.edges_file)
    selection = population.afferent_edges(sorted(cells_by_node_id))
    values = {a: np.asarray(population.get_attribute(a, selection), float) for a in ATTRIBUTES}
    values["delay"] = whole_steps(values["delay"], dt)
    section_ids = values["afferent_section_id"].astype(np.int64)
    edge_ids = np.asarray(selection.flatten(), np.int64)
    targets = np.asarray(population.target_nodes(selection), np.int64)
    sources = np.asarray(population.source_nodes(selection), np.int64)
    where = _locations(population, selection)
    attached, unmatched = [], 0
    for i, edge_id in enumerate(edge_ids.tolist()):
        cell = cells_by_node_id[int(targets[i])]
        location = _position(cell, int(section_ids[i]), where, i)
        synapse = closest_synapse(cell, int(section_ids[i]), location)
        if synapse is None:
            unmatched += 1
            continue
        source_gid = source_offset + int(sources[i])
        strength, dtc, enabled = values["neuromod_strength"][i], values["neuromod_dtc"][i], True
        for override in overrides:
            if source_gid in override.sources and cell.gid in override.targets:
                strength = override.strength if override.strength is not None else strength
                dtc = override.dtc if override.dtc is not None else dtc
                enabled = override.enabled if override.enabled is not None else enabled
        netcon = h.NetCon(None, synapse.point_process)
        netcon.delay = float(values["delay"][i])
        netcon.weight[0] = 1.0 if enabled else 0.0
        netcon.weight[1], netcon.weight[2] = float(strength), float(dtc)
        type_slot = netcon_type_slot(h, synapse.point_process)
        if type_slot:
            netcon.weight[type_slot] = NEUROMODULATOR_NETCON_TYPE
        modulator = Modulator(edge_settings.name, edge_id, source_gid, netcon)
        cell.modulators.append(modulator)
        attached.append(modulator)
    if unmatched:
        log.warning("%s: %d neuromodulatory edges found no synapse within %.2f of their "
                    "location on this rank", edge_settings.name, unmatched, CLOSEST_WITHIN)
    return attached
