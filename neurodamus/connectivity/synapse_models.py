"""Synapse models: one per mechanism convention, each a pair of mechanisms (excitatory,
inhibitory), a mapping from edge attributes to their parameters, and a random-stream
protocol. The circuit chooses: the BBP models are used whenever the loaded mechanisms
provide them, ours otherwise; `modoverride` in a connection override names another
registered model. This registry is the only list of valid names.
"""

import math
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import numpy as np

from ..random.keys import Purpose, purpose_id, stream_ids
from ..random.reference import (
    GABA_RISE_OFFSET,
    glu_synapse_release_ids,
    minis_ids,
    reference_synapse_ids,
)
from ..registry import Registry

GABA_RISE_MEAN, GABA_RISE_VARIANCE = 0.2, 0.1  # ms, ms^2 (log-normal), both conventions


@dataclass(slots=True)
class SynapseKey:
    """What a synapse's random streams are keyed by, in both conventions."""

    gid: int  # ours: offset + node id (0-based)
    index: int  # ours: the synapse's index among all synapses of the cell
    reference_gid: int  # the reference simulator's 1-based gid
    population_index: int  # index among the cell's afferent edges of this edge population
    source_population: str
    target_population: str


class SynapseModel:
    """Base: subclasses set `name`, `mechanisms` and implement `create`."""

    name = ""
    mechanisms: tuple[str, str] = ("", "")  # (excitatory, inhibitory)
    has_minis = False  # spontaneous releases generated inside the mechanism
    # parameter -> value when the edge file lacks the attribute
    absent_defaults: ClassVar[dict] = {}
    edge_attributes: tuple[str, ...] = ()  # edge attributes needed beyond the common ones
    calcium_scaled: tuple[str, ...] = ()  # of those, scaled like u_syn by extracellular Ca

    def available(self, h) -> bool:
        return all(hasattr(h, mechanism) for mechanism in self.mechanisms)

    def weights(self, attributes) -> np.ndarray:
        """NetCon weight of each edge before overrides."""
        return np.asarray(attributes["conductance"], float)

    def create(self, h, location, inhibitory: bool, parameters, key: SynapseKey, run,
               conditions):
        """The point process at `location`; `parameters[name]` gives the edge's values."""
        raise NotImplementedError

    def set_minis_weight(self, point_process, weight: float):
        """Spontaneous releases follow the connection's weight (only where inside)."""

    def attach_minis(self, h, synapse, rate: float, minis_seed: int, tstop: float):
        """Minis for mechanisms without them inside: a Poisson source of its own (None:
        this model has none)."""


# The reference simulator's minis for its synapse models: a constant-rate Poisson source
# per synapse, NetCon delay 0.1 ms, NetCon type 1 (spontaneous), stream
# (index + 200, tgid + 250, spop * 65536 + tpop + minis_seed + 300).
MINIS_NETCON_DELAY = 0.1
SPONTANEOUS_NETCON_TYPE = 1


def netcon_type_slot(h, point_process) -> int:
    """The NetCon weight index where the reference's mechanisms read an event's type (their
    global `nc_type_param`); 0 when the mechanism has none."""
    mechanism = point_process.hname().split("[", 1)[0]
    return int(getattr(h, f"nc_type_param_{mechanism}", 0) or 0)


def gaba_rise_time(h, ids) -> float:
    """A log-normal GABA_A rise time (ms) drawn from the Random123 stream `ids`."""
    draw = h.Random()
    draw.Random123(*ids)
    draw.lognormal(GABA_RISE_MEAN, GABA_RISE_VARIANCE)
    return draw.repick()


def reference_minis(h, synapse, rate: float, minis_seed: int, tstop: float):
    key = synapse.key
    source = h.NdPoissonMinis(synapse.point_process.get_segment())
    source.rate, source.duration = rate, tstop
    source.exp_rng.set_ids(*minis_ids(key.reference_gid, key.population_index,
                                      key.source_population, key.target_population, minis_seed))
    source.exp_rng.set_seq(0)
    netcon = h.NetCon(source, synapse.point_process)
    netcon.delay = MINIS_NETCON_DELAY
    netcon.weight[0] = synapse.netcon.weight[0]
    slot = netcon_type_slot(h, synapse.point_process)
    if slot:
        netcon.weight[slot] = SPONTANEOUS_NETCON_TYPE
    return source, netcon


@cache
def _release_stream(synapse_seed: int) -> int:
    return purpose_id(Purpose.SYNAPSE_RELEASE, synapse_seed)


class NeurodamusTsodyksMarkram(SynapseModel):
    """Ours (NdTmExc / NdTmInh): weight = conductance x conductance_scale_factor; streams
    keyed (purpose, synapse_seed, gid, index)."""

    name = "NdTm"
    mechanisms = ("NdTmExc", "NdTmInh")
    has_minis = True

    def weights(self, attributes):
        return (np.asarray(attributes["conductance"], float)
                * np.asarray(attributes["conductance_scale_factor"], float))

    def create(self, h, location, inhibitory, p, key, run, conditions):
        if inhibitory:
            synapse = h.NdTmInh(location)
            if p["decay_time"] == p["decay_time"]:  # not NaN
                synapse.tau_d_GABAA = p["decay_time"]
            if conditions.randomize_gaba_rise_time:
                synapse.tau_r_GABAA = gaba_rise_time(h, stream_ids(
                    Purpose.GABA_RISE_TIME, run.synapse_seed, key.gid, key.index))
        else:
            synapse = h.NdTmExc(location)
            if p["decay_time"] == p["decay_time"]:
                synapse.tau_d_AMPA = p["decay_time"]
        synapse.Use, synapse.Dep = p["u_syn"], p["depression_time"]
        synapse.Fac, synapse.Nrrp = p["facilitation_time"], p["n_rrp_vesicles"]
        synapse.release_rng.set_ids(_release_stream(run.synapse_seed), key.gid, key.index)
        synapse.release_rng.set_seq(0)  # needed: a new stream does not reliably start at 0
        return synapse

    def set_minis_weight(self, point_process, weight):
        point_process.minis_weight = weight


class BbpProbabilistic(SynapseModel):
    """The BBP/OBI models ProbAMPANMDA_EMS / ProbGABAAB_EMS, parameterised as the reference
    simulator does: decay_time -> tau_d_AMPA (tau_d_GABAA), |u_syn| -> Use,
    |depression_time| -> Dep, |facilitation_time| -> Fac, n_rrp_vesicles -> Nrrp (when
    >= 0), conductance_scale_factor -> NMDA_ratio (GABAB_ratio; when >= 0), NetCon weight =
    conductance; release stream setRNG(tgid + 250, index + 100, spop * 65536 + tpop + seed
    + 300) with the reference's 1-based gid, population ids and per-population index."""

    mechanisms = ("ProbAMPANMDA_EMS", "ProbGABAAB_EMS")
    absent_defaults: ClassVar[dict] = {"conductance_scale_factor": -1.0, "n_rrp_vesicles": -1.0}

    def __init__(self, name="ProbAMPANMDA_EMS/ProbGABAAB_EMS", forced_inhibitory=None):
        """`forced_inhibitory` True/False: every edge gets that one mechanism, as
        `modoverride: GABAAB` / `AMPANMDA` do (then without the conductance ratio)."""
        self.name, self.forced_inhibitory = name, forced_inhibitory

    def create(self, h, location, inhibitory, p, key, run, conditions):
        if self.forced_inhibitory is not None:
            inhibitory = self.forced_inhibitory
        ids = reference_synapse_ids(key.reference_gid, key.population_index,
                                    key.source_population, key.target_population,
                                    run.synapse_seed)
        if inhibitory:
            synapse = h.ProbGABAAB_EMS(location)
            if conditions.randomize_gaba_rise_time:
                synapse.tau_r_GABAA = gaba_rise_time(h, reference_synapse_ids(
                    key.reference_gid, key.population_index, key.source_population,
                    key.target_population, run.synapse_seed, purpose_offset=GABA_RISE_OFFSET))
            if math.isfinite(p["decay_time"]):
                synapse.tau_d_GABAA = p["decay_time"]
        else:
            synapse = h.ProbAMPANMDA_EMS(location)
            if math.isfinite(p["decay_time"]):
                synapse.tau_d_AMPA = p["decay_time"]
        synapse.Use = abs(p["u_syn"])
        synapse.Dep = abs(p["depression_time"])
        synapse.Fac = abs(p["facilitation_time"])
        if p["n_rrp_vesicles"] >= 0:
            synapse.Nrrp = p["n_rrp_vesicles"]
        synapse.setRNG(*ids)
        synapse.synapseID = key.population_index
        if hasattr(synapse, "conductance"):
            synapse.conductance = p["conductance"]
        ratio = p["conductance_scale_factor"]
        if ratio >= 0 and self.forced_inhibitory is None:
            if inhibitory:
                synapse.GABAB_ratio = ratio
            else:
                synapse.NMDA_ratio = ratio
        return synapse

    def attach_minis(self, h, synapse, rate, minis_seed, tstop):
        return reference_minis(h, synapse, rate, minis_seed, tstop)


class GluSynapsePlastic(SynapseModel):
    """BBP's plastic GluSynapse (picked by `modoverride: GluSynapse`), parameterised as the
    reference simulator does, for excitatory and inhibitory edges alike: Use_d/Use_p
    (calcium-scaled like u_syn), theta_d/p_GB, rho0_GB, volume_CR, gmax_d/p_AMPA;
    gmax0_AMPA and Use from the potentiated or depressed state (rho0_GB above
    rho_star_GB_GluSynapse or not), gmax_NMDA = gmax0_AMPA x conductance_scale_factor;
    release stream setRNG(tgid, 100000 + index, synapse_seed + 200)."""

    name = "GluSynapse"
    mechanisms = ("GluSynapse", "GluSynapse")
    edge_attributes = ("volume_CR", "rho0_GB", "Use_d_TM", "Use_p_TM", "gmax_d_AMPA",
                       "gmax_p_AMPA", "theta_d", "theta_p")
    calcium_scaled = ("Use_d_TM", "Use_p_TM")

    def create(self, h, location, inhibitory, p, key, run, conditions):
        synapse = h.GluSynapse(location)
        synapse.Use_d, synapse.Use_p = p["Use_d_TM"], p["Use_p_TM"]
        synapse.theta_d_GB, synapse.theta_p_GB = p["theta_d"], p["theta_p"]
        synapse.rho0_GB, synapse.volume_CR = p["rho0_GB"], p["volume_CR"]
        synapse.gmax_d_AMPA, synapse.gmax_p_AMPA = p["gmax_d_AMPA"], p["gmax_p_AMPA"]
        potentiated = synapse.rho0_GB > h.rho_star_GB_GluSynapse
        synapse.gmax0_AMPA = synapse.gmax_p_AMPA if potentiated else synapse.gmax_d_AMPA
        synapse.gmax_NMDA = synapse.gmax0_AMPA * p["conductance_scale_factor"]
        if math.isfinite(p["decay_time"]):
            synapse.tau_d_AMPA = p["decay_time"]
        synapse.Use = synapse.Use_p if potentiated else synapse.Use_d
        synapse.Dep = abs(p["depression_time"])
        synapse.Fac = abs(p["facilitation_time"])
        if p["n_rrp_vesicles"] >= 0:
            synapse.Nrrp = p["n_rrp_vesicles"]
        synapse.setRNG(*glu_synapse_release_ids(key.reference_gid, key.population_index,
                                                run.synapse_seed))
        synapse.synapseID = key.population_index
        return synapse

    def attach_minis(self, h, synapse, rate, minis_seed, tstop):
        return reference_minis(h, synapse, rate, minis_seed, tstop)


class Exp2SynModel(SynapseModel):
    """NEURON's Exp2Syn, as bmtk builds it from an edge type's dynamics_params: tau1, tau2
    (ms, rise and decay), e = erev (mV); one mechanism for excitatory and inhibitory edges
    alike, no release randomness and no minis. NetCon weight (uS): bmtk's syn_weight
    through its weight function (templated_edges.py); for edge populations of type
    Exp2Syn_synapse and as a modoverride on SONATA/BBP edges, the edge's `conductance`
    as it is, with plain edge attributes tau1, tau2, erev, as the reference simulator's
    Exp2SynHelper takes them (its NetCon weight is conductance x the override's weight).
    An edge counts as inhibitory when erev is below INHIBITORY_REVERSAL_BELOW."""

    name = "Exp2Syn"
    mechanisms = ("Exp2Syn", "Exp2Syn")
    edge_attributes = ("tau1", "tau2", "erev")
    INHIBITORY_REVERSAL_BELOW = -30.0  # mV: GABA-like (bmtk's GABA edges -70, AMPA 0)

    def weights(self, attributes):
        return np.asarray(attributes["conductance"], float)

    def create(self, h, location, inhibitory, p, key, run, conditions):
        synapse = h.Exp2Syn(location)
        synapse.tau1, synapse.tau2, synapse.e = p["tau1"], p["tau2"], p["erev"]
        return synapse


MODELS: Registry[str, SynapseModel] = Registry("synapse model", "modoverride")


def register(model: SynapseModel):
    """The model under its name (what `modoverride` names)."""
    MODELS.register(model.name, model)


register(NeurodamusTsodyksMarkram())
register(BbpProbabilistic())
register(BbpProbabilistic("AMPANMDA", forced_inhibitory=False))
register(BbpProbabilistic("GABAAB", forced_inhibitory=True))
register(GluSynapsePlastic())
register(Exp2SynModel())

# Preference when the circuit does not say: the first whose mechanisms are loaded.
DEFAULT_ORDER = ("ProbAMPANMDA_EMS/ProbGABAAB_EMS", "NdTm")


def default_model(h) -> SynapseModel:
    for name in DEFAULT_ORDER:
        if MODELS[name].available(h):
            return MODELS[name]
    return MODELS["NdTm"]
