"""bmtk's synaptic model library beyond Exp2Syn (bmtk 1.2, bionet default_setters): the
edge `model_template` names a mechanism (NEURON's ExpSyn, or the stp*/exp1*/tmg mod files
the Allen examples ship in bio_components) and which dynamics_params set which of its
parameters; some set fixed values instead, as bmtk does. All count an edge inhibitory by
its erev, as Exp2Syn edges do. Each is one entry of `BMTK_TEMPLATES`."""

from .synapse_models import Exp2SynModel, SynapseModel, register


class BmtkPointProcess(SynapseModel):
    """One of bmtk's synapse functions: mechanism, {parameter: dynamics_params key}, and
    fixed {parameter: value}."""

    def __init__(self, name: str, mechanism: str, from_edges: dict, fixed: dict | None = None):
        self.name = name
        self.mechanism = mechanism
        self.mechanisms = (mechanism, mechanism)
        self.from_edges = from_edges
        self.fixed = fixed or {}
        self.edge_attributes = tuple(dict.fromkeys(["erev", *from_edges.values()]))

    def create(self, h, location, inhibitory, p, key, run, conditions):
        synapse = getattr(h, self.mechanism)(location)
        for parameter, value in self.fixed.items():
            setattr(synapse, parameter, value)
        for parameter, attribute in self.from_edges.items():
            setattr(synapse, parameter, p[attribute])
        return synapse


STP5 = {"e": "erev", "tau_1": "tau_1", "tau_r0": "tau_r0", "tau_FDR": "tau_FDR",
        "a_FDR": "a_FDR", "a_D": "a_D", "a_i": "a_i", "a_f": "a_f", "pbtilde": "pbtilde"}
LIBRARY = [
    BmtkPointProcess("ExpSyn", "ExpSyn", {"e": "erev", "tau": "tau1"}),
    BmtkPointProcess("stp1syn", "stp1syn", {"e": "erev"}, {"p0": 0.5, "tau_r": 200, "tau_1": 5}),
    BmtkPointProcess("stp2syn", "stp2syn", {"e": "erev", "p0": "p0", "tau_r0": "tau_r0",
                                            "tau_FDR": "tau_FDR", "tau_1": "tau_1"}),
    BmtkPointProcess("stp3syn", "stp3syn", {"e": "erev"},
                     {"p0": 0.6, "tau_r0": 200, "tau_FDR": 2000, "tau_D": 500, "tau_1": 5}),
    BmtkPointProcess("stp4syn", "stp4syn", {"e": "erev"}, {"p0": 0.6, "tau_r": 200, "tau_1": 5}),
    BmtkPointProcess("stp5syn", "stp5syn", STP5),
    BmtkPointProcess("stp5isyn", "stp5isyn", STP5),
    BmtkPointProcess("tmgsyn", "tmgsyn", {"e": "erev", "tau_1": "tau_1", "tau_rec": "tau_rec",
                                          "tau_facil": "tau_facil", "U": "U", "u0": "u0"}),
    BmtkPointProcess("exp1syn", "exp1syn", {"e": "erev", "tau": "tau_1"}),
    BmtkPointProcess("exp1isyn", "exp1isyn", {"e": "erev", "tau": "tau_1"}),
]
for _model in LIBRARY:
    register(_model)

# Edge model_template -> registered synapse model (bmtk registers both Exp2Syn spellings).
BMTK_TEMPLATES = {"Exp2Syn": Exp2SynModel.name, "exp2syn": Exp2SynModel.name,
                  "expsyn": "ExpSyn", **{m.name: m.name for m in LIBRARY if m.name != "ExpSyn"}}
