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
from ..random_streams import Purpose, purpose_id, stream_ids

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
    """Creates synapses with their parameters and random streams, per the run's conditions.

    This loop runs once per synapse (millions per rank): edge attributes are turned into
    Python lists first. (Setting the Random123 ids inside the mechanism's INITIAL would be
    cheaper, but CoreNEURON cannot compile random_setids.)
    """

    def __init__(self, h, pc, run_settings, conditions):
        self.h, self.pc = h, pc
        self.synapse_seed = run_settings.synapse_seed
        self.calcium = conditions.extracellular_calcium
        self.randomize_gaba_rise = conditions.randomize_gaba_rise_time
        self.release_stream = purpose_id(Purpose.SYNAPSE_RELEASE, run_settings.synapse_seed)

    def _gaba_rise_time(self, gid, index):
        draw = self.h.Random()
        draw.Random123(*stream_ids(Purpose.GABA_RISE_TIME, self.synapse_seed, gid, index))
        draw.lognormal(GABA_RISE_MEAN, GABA_RISE_VARIANCE)
        return draw.repick()

    def _use(self, attributes):
        use = np.asarray(attributes["u_syn"], float)
        hill = np.asarray(attributes["u_hill_coefficient"], float)
        if self.calcium is not None:
            scaled = np.isfinite(hill)
            use = use.copy()
            use[scaled] *= [hill_scaling(self.calcium, k) for k in hill[scaled]]
        return use

    def connect(self, edges, cells_by_node_id: dict, source_offset: int) -> int:
        """Create every synapse of `edges` on the local cells; returns how many were made."""
        h, pc = self.h, self.pc
        a = edges.attributes
        weights = (a["conductance"] * a["conductance_scale_factor"]).tolist()
        inhibitory = (np.asarray(a["syn_type_id"]) < INHIBITORY_BELOW).tolist()
        decay = np.asarray(a["decay_time"], float).tolist()
        use, dep = self._use(a).tolist(), np.asarray(a["depression_time"], float).tolist()
        fac = np.asarray(a["facilitation_time"], float).tolist()
        nrrp = np.asarray(a["n_rrp_vesicles"], float).tolist()
        delays = np.asarray(a["delay"], float).tolist()
        targets, sources = edges.target_node_ids.tolist(), edges.source_node_ids.tolist()
        edge_ids = edges.edge_ids.tolist()
        for i in range(len(edges)):
            cell = cells_by_node_id[targets[i]]
            index = len(cell.synapses)
            location = edge_location(cell, edges, i)
            if inhibitory[i]:
                synapse = h.NdTmInh(location)
                if decay[i] == decay[i]:  # not NaN
                    synapse.tau_d_GABAA = decay[i]
                if self.randomize_gaba_rise:
                    synapse.tau_r_GABAA = self._gaba_rise_time(cell.gid, index)
            else:
                synapse = h.NdTmExc(location)
                if decay[i] == decay[i]:
                    synapse.tau_d_AMPA = decay[i]
            synapse.Use, synapse.Dep, synapse.Fac, synapse.Nrrp = use[i], dep[i], fac[i], nrrp[i]
            synapse.release_rng.set_ids(self.release_stream, cell.gid, index)
            synapse.release_rng.set_seq(0)  # needed: a new stream does not reliably start at 0
            source_gid = source_offset + sources[i]
            netcon = pc.gid_connect(source_gid, synapse)
            netcon.weight[0] = weights[i]
            netcon.delay = delays[i]
            cell.synapses.append(Synapse(edges.population, edge_ids[i], edges.source_population,
                                         sources[i], source_gid, synapse, netcon, weights[i],
                                         inhibitory[i]))
        return len(edges)
