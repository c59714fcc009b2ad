"""Chemical synapses: our Tsodyks-Markram mechanisms placed at (section, position) and
connected to their presynaptic gid with the edge's delay and conductance.

syn_type_id < 100 is inhibitory (NdTmInh, GABA_A), otherwise excitatory (NdTmExc,
AMPA + NMDA). The NetCon weight is the conductance in nS times conductance_scale_factor
(see the mod files). Each synapse's release stream is keyed by (synapse_seed, gid,
synapse index on the cell).
"""

from dataclasses import dataclass

import numpy as np

from ..errors import CircuitError
from ..random_streams import Purpose, stream_ids

INHIBITORY_BELOW = 100
# Extracellular calcium at which u_syn is given (mM): the Hill scaling is 1 there.
REFERENCE_CALCIUM = 2.0
GABA_RISE_MEAN, GABA_RISE_VARIANCE = 0.2, 0.1  # ms, ms^2 (log-normal)


@dataclass
class Synapse:
    """One afferent synapse of a local cell, in SONATA edge order per edge population."""

    edge_population: str
    edge_id: int
    source_population: str
    source_node_id: int
    source_gid: int
    point_process: object
    netcon: object
    weight: float  # nS, before overrides
    inhibitory: bool
    minis_rate: float | None = None  # Hz, from connection overrides (None: node attributes)

    def set_weight(self, weight: float):
        """The weight of presynaptic and of spontaneous releases."""
        self.netcon.weight[0] = weight
        self.point_process.minis_weight = weight


def hill_scaling(calcium: float, coefficient: float) -> float:
    """Scale of u_syn at `calcium` (mM): a Hill function of order 4 with half-activation
    `coefficient`, normalised to 1 at the reference 2 mM at which u_syn was measured."""
    k4, c4 = coefficient ** 4, calcium ** 4
    return (k4 + REFERENCE_CALCIUM ** 4) / REFERENCE_CALCIUM ** 4 * c4 / (k4 + c4)


def segment_position(section, segment_id: int, offset: float) -> float:
    """Normalised position of (3D segment `segment_id`, `offset` um along it) on `section`."""
    if segment_id + 1 >= section.n3d():
        raise CircuitError(f"afferent_segment_id {segment_id} beyond the {section.n3d()} points "
                           f"of {section.name()}")
    arc = section.arc3d(segment_id) + offset
    return min(max(arc / section.L, 0.0), 1.0)


def edge_location(cell, edges, i):
    section = cell.section(int(edges.section_ids[i]))
    if edges.section_pos is not None:
        return section(float(edges.section_pos[i]))
    return section(segment_position(section, int(edges.segment_ids[i]),
                                    float(edges.segment_offsets[i])))


class SynapseFactory:
    """Creates synapses with their parameters and random streams, per the run's conditions."""

    def __init__(self, h, pc, run_settings, conditions):
        self.h, self.pc = h, pc
        self.synapse_seed = run_settings.synapse_seed
        self.calcium = conditions.extracellular_calcium
        self.randomize_gaba_rise = conditions.randomize_gaba_rise_time

    def _mechanism(self, location, attributes, i, cell, index):
        h = self.h
        inhibitory = attributes["syn_type_id"][i] < INHIBITORY_BELOW
        synapse = (h.NdTmInh if inhibitory else h.NdTmExc)(location)
        decay = attributes["decay_time"][i]
        if np.isfinite(decay):
            if inhibitory:
                synapse.tau_d_GABAA = decay
            else:
                synapse.tau_d_AMPA = decay
        use = attributes["u_syn"][i]
        hill = attributes["u_hill_coefficient"][i]
        if self.calcium is not None and np.isfinite(hill):
            use *= hill_scaling(self.calcium, hill)
        synapse.Use = use
        synapse.Dep = attributes["depression_time"][i]
        synapse.Fac = attributes["facilitation_time"][i]
        synapse.Nrrp = attributes["n_rrp_vesicles"][i]
        synapse.release_rng.set_ids(*stream_ids(Purpose.SYNAPSE_RELEASE, self.synapse_seed,
                                                cell.gid, index))
        synapse.release_rng.set_seq(0)
        if inhibitory and self.randomize_gaba_rise:
            synapse.tau_r_GABAA = self._gaba_rise_time(cell.gid, index)
        return synapse, inhibitory

    def _gaba_rise_time(self, gid, index):
        draw = self.h.Random()
        draw.Random123(*stream_ids(Purpose.GABA_RISE_TIME, self.synapse_seed, gid, index))
        draw.lognormal(GABA_RISE_MEAN, GABA_RISE_VARIANCE)
        return draw.repick()

    def connect(self, edges, cells_by_node_id: dict, source_offset: int) -> int:
        """Create every synapse of `edges` on the local cells; returns how many were made."""
        attributes = edges.attributes
        weights = attributes["conductance"] * attributes["conductance_scale_factor"]
        for i in range(len(edges)):
            cell = cells_by_node_id[int(edges.target_node_ids[i])]
            index = len(cell.synapses)
            synapse, inhibitory = self._mechanism(edge_location(cell, edges, i), attributes, i,
                                                  cell, index)
            source_gid = int(source_offset + edges.source_node_ids[i])
            netcon = self.pc.gid_connect(source_gid, synapse)
            netcon.weight[0] = float(weights[i])
            netcon.delay = float(attributes["delay"][i])
            cell.synapses.append(Synapse(
                edges.population, int(edges.edge_ids[i]), edges.source_population,
                int(edges.source_node_ids[i]), source_gid, synapse, netcon, float(weights[i]),
                bool(inhibitory)))
            cell.hoc.synlist.append(synapse)
        return len(edges)
