"""Chemical synapses: our Tsodyks-Markram mechanisms placed at (section, position) and
connected to their presynaptic gid with the edge's delay and conductance.

syn_type_id < 100 is inhibitory (NdTmInh, GABA_A), otherwise excitatory (NdTmExc,
AMPA + NMDA). The NetCon weight is the conductance in nS (see the mod files).
"""

from dataclasses import dataclass

import numpy as np

from ..errors import CircuitError

INHIBITORY_BELOW = 100


@dataclass
class Synapse:
    """One afferent synapse of a local cell, in SONATA edge order per edge population."""

    edge_population: str
    edge_id: int
    source_gid: int
    point_process: object
    netcon: object


def segment_position(section, segment_id: int, offset: float, h) -> float:
    """Normalised position of (3D segment `segment_id`, `offset` um along it) on `section`."""
    if segment_id + 1 >= section.n3d():
        raise CircuitError(f"afferent_segment_id {segment_id} beyond the {section.n3d()} points "
                           f"of {section.name()}")
    arc = section.arc3d(segment_id) + offset
    return min(max(arc / section.L, 0.0), 1.0)


def _make_synapse(h, location, attributes, i):
    if attributes["syn_type_id"][i] < INHIBITORY_BELOW:
        synapse = h.NdTmInh(location)
        decay = attributes["decay_time"][i]
        if np.isfinite(decay):
            synapse.tau_d_GABAA = decay
    else:
        synapse = h.NdTmExc(location)
        decay = attributes["decay_time"][i]
        if np.isfinite(decay):
            synapse.tau_d_AMPA = decay
    synapse.Use = attributes["u_syn"][i]
    synapse.Dep = attributes["depression_time"][i]
    synapse.Fac = attributes["facilitation_time"][i]
    synapse.Nrrp = attributes["n_rrp_vesicles"][i]
    return synapse


def connect_chemical(edges, cells_by_node_id: dict, source_offset: int, h, pc) -> int:
    """Create every synapse of `edges` on the local cells; returns how many were made."""
    attributes = edges.attributes
    weights = attributes["conductance"] * attributes["conductance_scale_factor"]
    for i in range(len(edges)):
        cell = cells_by_node_id[int(edges.target_node_ids[i])]
        section = cell.section(int(edges.section_ids[i]))
        if edges.section_pos is not None:
            position = float(edges.section_pos[i])
        else:
            position = segment_position(section, int(edges.segment_ids[i]),
                                        float(edges.segment_offsets[i]), h)
        synapse = _make_synapse(h, section(position), attributes, i)
        netcon = pc.gid_connect(int(source_offset + edges.source_node_ids[i]), synapse)
        netcon.weight[0] = float(weights[i])
        netcon.delay = float(attributes["delay"][i])
        cell.synapses.append(Synapse(edges.population, int(edges.edge_ids[i]),
                                     int(source_offset + edges.source_node_ids[i]), synapse, netcon))
        cell.hoc.synlist.append(synapse)
    return len(edges)
