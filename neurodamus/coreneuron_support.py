"""What CoreNEURON cannot simulate, refused with one error instead of an abort inside the
first psolve: input modules (checked with the options, before anything is built) and
NEURON's built-in mechanisms its library lacks (checked on the built model, before the run).
Everything else runs under both solvers with the same spikes (see check_coreneuron_support).
"""

from .errors import ConfigError, NeurodamusError

# Input modules whose stimulus CoreNEURON cannot simulate, and why.
CORENEURON_CANNOT = {
    "spatially_uniform_e_field": "it plays the field into NEURON's extracellular mechanism, "
                                 "which CoreNEURON cannot simulate",
}


def check_coreneuron_support(settings):
    """Refuse, before anything is built, what CoreNEURON cannot run; one error per feature.

    Everything else runs under both solvers with the same spikes: CoreNEURON's direct mode
    hands the whole state (event queue and random streams included) back to NEURON after
    every psolve, so checkpoints are written and read by NEURON between windows, delayed
    overrides are applied between windows (as under NEURON, see RunControl.actions) and
    replayed spikes are NetCon events queued in NEURON before each window (those due in
    it, replay.SpikeReplay)."""
    for settings_input in settings.inputs:
        reason = CORENEURON_CANNOT.get(settings_input.module)
        if reason is not None:
            raise ConfigError(f"CoreNEURON cannot run the {settings_input.module} input "
                              f"'{settings_input.name}': {reason} (use --simulator NEURON)",
                              key=f"inputs.{settings_input.name}.module")


# NEURON's built-in mechanisms that CoreNEURON's library lacks, and who brings them here.
NEURON_ONLY_DENSITY = {"extracellular": "a cell model (e.g. model_processing set_extracellular) "
                                        "or a spatially_uniform_e_field input",
                       "fastpas": "a cell model"}
NEURON_ONLY_POINT = {"IntFire1": "point neurons (nrn:IntFire1)",
                     "IntFire2": "point neurons (nrn:IntFire2)",
                     "IntFire4": "point neurons (nrn:IntFire4)",
                     "AlphaSynapse": "a cell model", "VClamp": "a cell model",
                     "OClamp": "a cell model", "APCount": "a cell model",
                     "PointProcessMark": "a cell model"}


def check_coreneuron_model(h, pc):
    """After the model is built, the NEURON mechanisms in it that CoreNEURON cannot simulate
    (it would abort inside the first psolve): one error naming them, on every rank (the
    counts are summed over ranks, so no rank goes on into the run alone)."""
    counts = [sum(1 for section in h.allsec() if section.has_membrane(name))
              for name in NEURON_ONLY_DENSITY]
    counts += [int(h.List(name).count()) if hasattr(h, name) else 0
               for name in NEURON_ONLY_POINT]
    totals = h.Vector(counts)
    pc.allreduce(totals, 1)
    sources = {**NEURON_ONLY_DENSITY, **NEURON_ONLY_POINT}
    found = [f"{name} ({int(total)} {'sections' if name in NEURON_ONLY_DENSITY else 'instances'}, "
             f"from {sources[name]})" for name, total in zip(sources, totals) if total > 0]
    if found:
        raise NeurodamusError("CoreNEURON cannot simulate NEURON's " + "; ".join(found)
                              + ": use --simulator NEURON")
