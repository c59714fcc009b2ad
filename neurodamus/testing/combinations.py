"""The feature combination matrix: every feature with every other (covering.py), run for real.

One generated circuit holds every feature (build_matrix_circuit): our templates (exc, inh,
with gap junctions among inh and a virtual thalamus replayed onto exc) from circuit_builder,
and the other cell families of mixed_families (BBP-style `cortex`, `allen`, IntFire1
`point`, driven by their replayed `input`). A row of the matrix (FACTORS) switches features
on and off and picks the solver, ranks, load balance and checkpoint; `row_config` writes
its simulation config and `matrix_checks.check_row` runs it and checks the invariants:

- every run exits 0 and prints no traceback;
- its spikes are those of the row's reference (the same features under NEURON on 1 rank,
  RoundRobin, uninterrupted): the same as 1 rank, as the other solver, as uninterrupted;
- with a checkpoint: the run saved at that time on its ranks and restored on the other rank
  count gives the reference's spikes and report frames;
- the spike file and each report read with libsonata (and bluepysnap where installed).

What cannot run together by design is in REFUSED: the generator leaves those pairs out of
the rows, and `refusal_config` makes one run per refused pair that must end in the one
`neurodamus: error:` line naming it (matrix_checks.check_refusal).
"""

import json
import os
import shutil
from pathlib import Path

from .circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_poisson_spikes,
    write_simulation_config,
)
from .mixed_families import build_mixed_circuit

TSTOP = 40.0
# Replay, noise and the delayed override pending at both; some waveforms (subthreshold,
# pulse, linear) already over (their ends once aborted CoreNEURON saves).
SAVE_TIMES = (15.0, 27.5)

# One per input module of SONATA, on our templates (exc, inh). (bmtk's IClamp is a module of
# the bmtk dialect only: a SONATA config naming it is refused, as it should be.)
INPUTS = {
    "shot_noise": {"input_type": "conductance", "node_set": "exc", "rise_time": 0.5,
                   "decay_time": 5.0, "rate": 200.0, "amp_mean": 0.002, "amp_var": 1e-6,
                   "reversal": 0.0, "delay": 0.0, "duration": TSTOP},
    "absolute_shot_noise": {"input_type": "conductance", "node_set": "exc", "rise_time": 0.5,
                            "decay_time": 5.0, "mean": 0.002, "sigma": 0.001,
                            "reversal": 0.0, "delay": 2.0, "duration": TSTOP},
    "relative_shot_noise": {"input_type": "current_clamp", "node_set": "exc",
                            "rise_time": 0.5, "decay_time": 5.0, "mean_percent": 80,
                            "sd_percent": 30, "delay": 5.0, "duration": 30.0},
    "ornstein_uhlenbeck": {"input_type": "current_clamp", "node_set": "exc", "tau": 5.0,
                           "mean": 0.1, "sigma": 0.05, "delay": 3.0, "duration": TSTOP},
    "relative_ornstein_uhlenbeck": {"input_type": "current_clamp", "node_set": "inh",
                                    "tau": 3.0, "mean_percent": 50, "sd_percent": 20,
                                    "delay": 0.0, "duration": TSTOP},
    "noise": {"input_type": "current_clamp", "node_set": "inh", "mean_percent": 100,
              "variance": 0.01, "delay": 0.0, "duration": TSTOP},
    "pulse": {"input_type": "current_clamp", "node_set": "inh", "amp_start": 0.3,
              "width": 2.0, "frequency": 80.0, "delay": 4.0, "duration": 20.0},
    "linear": {"input_type": "current_clamp", "node_set": "exc", "amp_start": 0.3,
               "amp_end": 0.4, "delay": 5.0, "duration": 20.0},
    "relative_linear": {"input_type": "current_clamp", "node_set": "inh", "percent_start": 80,
                        "percent_end": 120, "delay": 1.0, "duration": 35.0},
    "sinusoidal": {"input_type": "current_clamp", "node_set": "exc", "amp_start": 0.1,
                   "frequency": 40.0, "delay": 0.0, "duration": TSTOP},
    "subthreshold": {"input_type": "current_clamp", "node_set": "exc", "percent_less": -40,
                     "delay": 2.0, "duration": 10.0},
    "hyperpolarizing": {"input_type": "current_clamp", "node_set": "inh", "delay": 0.0,
                        "duration": TSTOP},
    "seclamp": {"input_type": "voltage_clamp", "node_set": "exc_one", "voltage": -70.0,
                "duration": 30.0, "duration_levels": [10.0, 10.0],
                "voltage_levels": [-20.0, -60.0], "delay": 0.0},
    "spatially_uniform_e_field": {"input_type": "extracellular_stimulation", "node_set": "inh",
                                  "delay": 5.0, "duration": 20.0,
                                  "fields": [{"Ex": 10.0, "Ey": 0.0, "Ez": 0.0}]},
}

REPORTS = {
    "compartment": {"type": "compartment", "variable_name": "v", "sections": "soma",
                    "cells": "exc"},
    "summation": {"type": "summation", "variable_name": "i_membrane", "sections": "all",
                  "cells": "inh"},
    "synapse": {"type": "synapse", "variable_name": "g", "cells": "exc"},
    "compartment_set": {"type": "compartment_set", "variable_name": "v",
                        "compartment_set": "places"},
}
FAMILIES = ("cortex", "allen", "point")  # besides our templates (exc, inh), always there

# Factor -> its levels. Features are on/off; the other factors are how the run is made.
FACTORS: dict[str, tuple] = {
    **{f"input:{module}": (False, True) for module in INPUTS},
    **{f"report:{kind}": (False, True) for kind in REPORTS},
    **{f"family:{family}": (False, True) for family in FAMILIES},
    "replay": (False, True),
    "minis": (False, True),
    "gap_junctions": (False, True),
    "override": ("none", "immediate", "delayed"),
    "save": ("none", *SAVE_TIMES),
    "solver": ("NEURON", "CORENEURON"),
    "ranks": (1, 2),
    "lb_mode": ("RoundRobin", "WholeCell", "Memory"),
}

# What cannot run together, by design: (factor, level, factor, level, why, the error's words).
REFUSED = [
    ("solver", "CORENEURON", "input:spatially_uniform_e_field", True,
     "the e-field is played into NEURON's extracellular mechanism, which CoreNEURON lacks",
     "CoreNEURON cannot run the spatially_uniform_e_field input"),
    ("solver", "CORENEURON", "family:point", True,
     "point neurons are NEURON's IntFire1, not in CoreNEURON's library",
     "CoreNEURON cannot simulate NEURON's IntFire1"),
    ("solver", "CORENEURON", "family:cortex", True,
     "its BBP stand-in mechanisms call NEURON-only Random123 functions (nrnran123_setids) "
     "in VERBATIM blocks; the failed CoreNEURON compile takes ~2 min, so only ci/ runs it",
     "does not compile for CoreNEURON"),
]
SLOW_REFUSALS = {"family:cortex"}  # refusals the suite leaves to ci/combinations


def allowed(row: dict) -> bool:
    """False where the (partial) row holds a refused pair."""
    return not any(row.get(a) == level_a and row.get(b) == level_b
                   for a, level_a, b, level_b, _, _ in REFUSED)


def refusal_table() -> str:
    """REFUSED as a table, for the docs and the ci script."""
    lines = ["| feature | with | why | the one error line says |", "|---|---|---|---|"]
    lines += [f"| {a} = {la} | {b} = {lb} | {why} | {words} |"
              for a, la, b, lb, why, words in REFUSED]
    return "\n".join(lines)


# -- the circuit ---------------------------------------------------------------------------

def _rebase(config: dict, part: str) -> dict:
    return json.loads(json.dumps(config).replace("$BASE_DIR", f"$BASE_DIR/{part}"))


def build_matrix_circuit(directory: Path) -> Path:
    """Our templates (main/) and the other families (mixed/) as one circuit; returns the
    directory, which also holds the spike files and node and compartment sets."""
    directory = Path(directory)
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 4, "exc"), PopulationSpec("inh", 3, "inh"),
                     PopulationSpec("thalamus", 3, "virtual")],
        edges=[EdgeSpec("exc", "exc", 2, 1.5), EdgeSpec("exc", "inh", 2, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0), EdgeSpec("thalamus", "exc", 3, 3.0)],
        gap_junctions=[GapJunctionSpec("inh", pairs=2, conductance=1.0)], seed=7)
    build_circuit(directory / "main", spec)
    write_poisson_spikes(directory / "thalamus.h5", "thalamus", range(3), rate=100.0,
                         tstop=TSTOP, seed=7)
    mixed = build_mixed_circuit(directory / "mixed", tstop=TSTOP + 20.0, input_rate=60.0,
                                weight_scale={"input__allen__chemical": 6.0,
                                              "input__point__chemical": 6.0})
    shutil.copy(mixed.spike_file, directory / "input.h5")
    main = _rebase(json.loads((directory / "main" / "circuit_config.json").read_text()), "main")
    other = _rebase(json.loads(mixed.circuit_config.read_text()), "mixed")
    for group in main["networks"]["nodes"]:
        for population in group["populations"].values():
            if population["type"] == "biophysical":
                population["biophysical_neuron_models_dir"] = "$BASE_DIR/main/emodels"
    networks = {"nodes": main["networks"]["nodes"] + other["networks"]["nodes"],
                "edges": other["networks"]["edges"]}
    electrical = [e for e in main["networks"]["edges"]
                  if "electrical" in json.dumps(e["populations"])]
    chemical = [e for e in main["networks"]["edges"] if e not in electrical]
    networks["edges"] = chemical + networks["edges"]
    for gaps in (False, True):
        for bbp in (False, True):  # the BBP stand-in mechanisms only where cortex runs
            config = {"version": 2, "manifest": {"$BASE_DIR": "."},
                      "node_sets_file": "$BASE_DIR/node_sets.json",
                      "components": other.get("components", {}) if bbp else {},
                      "networks": {"nodes": networks["nodes"],
                                   "edges": networks["edges"] + (electrical if gaps else [])}}
            (directory / circuit_name(gaps, bbp)).write_text(json.dumps(config, indent=2))
    populations = ["exc", "inh", "thalamus", "input", "ours", *FAMILIES]
    node_sets: dict = {name: {"population": name} for name in populations}
    node_sets["exc_one"] = {"population": "exc", "node_id": [1]}
    (directory / "node_sets.json").write_text(json.dumps(node_sets, indent=2))
    (directory / "compartment_sets.json").write_text(json.dumps(
        {"places": {"population": "exc", "compartment_set": [[0, 0, 0.5], [1, 2, 0.3],
                                                             [3, 1, 0.9]]}}))
    return directory


def circuit_name(gaps: bool, bbp_mechanisms: bool) -> str:
    return f"circuit{'_gaps' if gaps else ''}{'_bbp' if bbp_mechanisms else ''}.json"


# -- a row's configuration -----------------------------------------------------------------

def features_key(row: dict) -> tuple:
    """The features of a row (not how it runs): rows with the same key share a reference."""
    return tuple(sorted((k, v) for k, v in row.items()
                        if k not in ("save", "solver", "ranks", "lb_mode")))


def row_config(circuit_dir: Path, row: dict, name: str) -> Path:
    """The simulation config of a row's features, written into circuit_dir."""
    families = [f for f in FAMILIES if row[f"family:{f}"]]
    inputs = {f"in_{module}": {"module": module, **parameters}
              for module, parameters in INPUTS.items() if row[f"input:{module}"]}
    if row["replay"]:
        inputs["thalamic_replay"] = {"module": "synapse_replay", "input_type": "spikes",
                                     "node_set": "exc", "spike_file": "thalamus.h5",
                                     "delay": 0.0, "duration": TSTOP}
    for family in families:  # each family comes with its drive: replayed inputs
        inputs[f"{family}_drive"] = {"module": "synapse_replay", "input_type": "spikes",
                                     "node_set": family, "spike_file": "input.h5",
                                     "delay": 0.0, "duration": TSTOP}
    if "cortex" in families:
        inputs["cortex_step"] = {"module": "linear", "input_type": "current_clamp",
                                 "node_set": "cortex", "amp_start": 0.5, "delay": 5.0,
                                 "duration": TSTOP - 10.0}
    reports = {kind: {**report, "start_time": 0.0, "end_time": TSTOP, "dt": 0.5}
               for kind, report in REPORTS.items() if row[f"report:{kind}"]}
    overrides: list[dict] = []
    if row["override"] != "none":
        overrides.append({"name": "stronger_inhibition", "source": "inh", "target": "exc",
                          "weight": 2.5, **({"delay": 21.0125}
                                            if row["override"] == "delayed" else {})})
    if row["minis"]:
        overrides.append({"name": "minis", "source": "exc", "target": "exc",
                          "spont_minis": 20.0})
        overrides.append({"name": "minis_thalamic", "source": "thalamus", "target": "exc",
                          "spont_minis": 10.0})
    directory = Path(circuit_dir)
    circuit = directory / circuit_name(row["gap_junctions"], "cortex" in families)
    config = write_simulation_config(
        directory / "configs" / name, circuit, tstop=TSTOP, inputs=inputs, reports=reports,
        node_set=None, random_seed=3,
        extra={"connection_overrides": overrides,
               "compartment_sets_file": os.path.relpath(directory / "compartment_sets.json",
                                                        directory / "configs" / name)})
    raw = json.loads(config.read_text())
    raw["node_set"] = f"run_{name}"
    # the node set of the run: our templates and the chosen families (in the config's own
    # node sets file, which SONATA lets a simulation config name)
    node_sets = json.loads((directory / "node_sets.json").read_text())
    node_sets[f"run_{name}"] = ["exc", "inh", *families]
    (config.parent / "node_sets.json").write_text(json.dumps(node_sets, indent=2))
    raw["node_sets_file"] = "node_sets.json"
    for settings in raw["inputs"].values():  # spike files live beside the circuit
        if "spike_file" in settings:
            settings["spike_file"] = os.path.relpath(directory / settings["spike_file"],
                                                     config.parent)
    config.write_text(json.dumps(raw, indent=2))
    return config


def refusal_config(circuit_dir: Path, refused: tuple, name: str) -> Path:
    """The smallest row holding a refused pair (the rest off, NEURON's defaults)."""
    row = {factor: levels[0] for factor, levels in FACTORS.items()}
    a, level_a, b, level_b, _, _ = refused
    row[a], row[b] = level_a, level_b
    return row_config(circuit_dir, row, name)


def describe(row: dict) -> str:
    """A row in one line: its features on, then how it runs."""
    on = [k.split(":", 1)[1] for k, v in row.items() if ":" in k and v is True]
    on += [k for k in ("replay", "minis", "gap_junctions") if row[k]]
    if row["override"] != "none":
        on.append(f"override {row['override']}")
    save = "" if row["save"] == "none" else f", save {row['save']} -> {3 - row['ranks']} rank(s)"
    return (f"{row['solver']} {row['ranks']}r {row['lb_mode']}{save}: "
            + (", ".join(on) or "nothing on"))
