"""Small circuits with known parameters for `neurodamus fit`'s recovery tests, and the fit
specs that go with them.

Each builder writes a circuit (with the circuit builder), a simulation config whose values
are *not* the truth, and the parameter list (bounds, where each applies); `make_targets`
runs the truth once and keeps its recordings as the targets. The tests and
ci/fit-recovery start fits away from the truth and check what they recover.
"""

import json
import subprocess
import sys
from pathlib import Path

from .circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

# The two-cell circuit's true values (odynn-style: two neurons, a gap junction and a chemical
# synapse each way, current steps into both).
TWO_CELL_TRUTH = {"weight": 1.0, "tau_d": 3.0, "g_pas": 1e-4, "amp": 0.08, "gap": 1.0}


def two_cell_parameters() -> list[dict]:
    return [
        {"name": "weight", "bounds": [0.2, 5.0], "scale": "log",
         "apply": {"connection_override": {"source": "pair", "target": "pair",
                                           "field": "weight"}}},
        {"name": "tau_d", "bounds": [0.5, 10.0], "scale": "log",
         "apply": {"connection_override": {"source": "pair", "target": "pair",
                                           "variable": "tau_d_AMPA"}}},
        {"name": "g_pas", "bounds": [2e-5, 5e-4], "scale": "log",
         "apply": {"sections": {"node_set": "pair", "section_list": "basal",
                                "variable": "g_pas"}}},
        {"name": "amp", "bounds": [0.01, 0.2],
         "apply": {"input": {"input": "step_second", "field": "amp_start"}}},
        {"name": "gap", "bounds": [0.2, 5.0], "scale": "log",  # x the file's 1 nS
         "apply": {"edges": {"population": "pair__pair__electrical",
                             "attribute": "conductance"}}},
    ]


def build_two_cell(directory, tstop: float = 150.0) -> Path:
    """Two excitatory cells (hh soma, passive dendrites), one gap junction between them, a
    chemical synapse each way (deterministic release); the first cell fires on a train of
    current pulses, the second gets a current step and the first's EPSPs. A soma voltage
    report of both. Returns the simulation config."""
    directory = Path(directory)
    spec = CircuitSpec(populations=[PopulationSpec("pair", 2, "exc")],
                       edges=[EdgeSpec("pair", "pair", per_target=1, conductance=0.5,
                                       delay=(1.0, 1.5))],
                       gap_junctions=[GapJunctionSpec("pair", pairs=1, conductance=1.0)],
                       node_sets={"first": {"population": "pair", "node_id": [0]},
                                  "second": {"population": "pair", "node_id": [1]}},
                       seed=3, morphologies_per_kind=1)
    circuit = build_circuit(directory / "circuit", spec)
    step = {"module": "linear", "input_type": "current_clamp", "delay": 20.0,
            "duration": 100.0}
    return write_simulation_config(
        directory, circuit, tstop=tstop, dt=0.025, node_set="pair",
        inputs={"pulses_first": {"module": "pulse", "input_type": "current_clamp",
                                 "node_set": "first", "amp_start": 2.0, "width": 1.0,
                                 "frequency": 40.0, "delay": 30.0, "duration": 80.0},
                "step_second": {**step, "node_set": "second", "amp_start": 0.05}},
        reports={"soma_v": {"type": "compartment", "cells": "pair", "sections": "soma",
                            "variable_name": "v", "dt": 0.5, "start_time": 0.0,
                            "end_time": tstop}},
        extra={"conditions": {"celsius": 6.3, "v_init": -65.0,
                              "mechanisms": {"NdTmExc": {"deterministic": 1}}}})


# The E/I network: synaptic weights (connection override factors) and the rates they give.
EI_TRUTH = {"w_ee": 1.0, "w_ei": 1.0, "w_ie": 1.0}


def ei_parameters() -> list[dict]:
    def override(source, target):
        return {"connection_override": {"source": source, "target": target, "field": "weight"}}
    return [{"name": "w_ee", "bounds": [0.25, 4.0], "scale": "log", "apply": override("E", "E")},
            {"name": "w_ei", "bounds": [0.25, 4.0], "scale": "log", "apply": override("E", "I")},
            {"name": "w_ie", "bounds": [0.25, 4.0], "scale": "log", "apply": override("I", "E")}]


def build_ei(directory, tstop: float = 1000.0, cells: int = 20) -> Path:
    """`cells` cells, 80 % excitatory, recurrent E->E, E->I, I->E, I->I synapses, each cell
    driven by its own noisy current (shot noise, fixed seeds). Returns the config."""
    directory = Path(directory)
    n_exc = cells * 4 // 5
    spec = CircuitSpec(populations=[PopulationSpec("E", n_exc, "exc"),
                                    PopulationSpec("I", cells - n_exc, "inh")],
                       edges=[EdgeSpec("E", "E", 4, 4.0), EdgeSpec("E", "I", 6, 6.0),
                              EdgeSpec("I", "E", 3, 8.0), EdgeSpec("I", "I", 2, 2.0)],
                       seed=11, morphologies_per_kind=1)
    circuit = build_circuit(directory / "circuit", spec)
    noise = {"module": "relative_shot_noise", "input_type": "current_clamp",
             "rise_time": 2.0, "decay_time": 20.0, "delay": 0.0, "duration": tstop}
    return write_simulation_config(
        directory, circuit, tstop=tstop, dt=0.025, node_set="All",
        inputs={"drive_E": {**noise, "node_set": "E", "mean_percent": 70.0, "sd_percent": 40.0},
                "drive_I": {**noise, "node_set": "I", "mean_percent": 10.0, "sd_percent": 20.0}},
        extra={"conditions": {"celsius": 6.3, "v_init": -65.0,
                              "mechanisms": {"NdTmExc": {"deterministic": 1},
                                             "NdTmInh": {"deterministic": 1}}}})


def write_spec(path, simulation_config, parameters, targets, optimiser, **extra) -> Path:
    """A fit spec (JSON) at `path`; `parameters` take their `initial` from the caller."""
    spec = {"simulation_config": str(Path(simulation_config).resolve()),
            "parameters": parameters,
            "targets": targets, "optimiser": optimiser, **extra}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2))
    return path


def run_truth(simulation_config, parameters: list[dict], truth: dict, directory) -> Path:
    """Simulate the truth (the parameters at `truth`, applied as a fit applies them) with
    the `neurodamus` command; returns its output folder."""
    from ..fit.parameters import BaseConfig
    from ..fit.spec import load_fit_spec

    directory = Path(directory).resolve()
    probe = write_spec(directory / "truth_spec.json", simulation_config,
                       [dict(p, initial=truth[p["name"]]) for p in parameters],
                       [{"name": "none", "type": "rates", "rates": {"x": 1.0}}],
                       {"method": "nelder-mead", "budget": 1})
    spec = load_fit_spec(probe)
    base = BaseConfig(spec.simulation_config)
    config = base.with_values(spec.parameters, truth, directory / "truth_output")
    path = directory / "truth_config.json"
    path.write_text(json.dumps(config, indent=1))
    subprocess.run([sys.executable, "-m", "neurodamus", str(path), "--no-progress"], check=True,
                   stdout=subprocess.DEVNULL)
    return directory / "truth_output"


def _yaml_number(value: float) -> str:
    """A float YAML 1.1 reads as one (PyYAML reads 2e-05, without a dot, as a string)."""
    text = repr(float(value))
    return text.replace("e", ".0e") if "e" in text and "." not in text else text


EXAMPLE_PARAMETERS = ("amp", "g_pas", "gap")  # those docs/fit.md's worked example fits


def build_fit_example(directory) -> Path:
    """configs/fit-example: the two-cell circuit, the recording of its true parameters as
    the target (target/soma_v.h5) and a YAML spec fitting three of them from 50 % away
    (fit.yaml; the simulation config's own values are the start). Returns the spec."""
    import shutil

    directory = Path(directory).resolve()
    config = build_two_cell(directory)
    parameters = [p for p in two_cell_parameters() if p["name"] in EXAMPLE_PARAMETERS]
    scratch = directory / "truth"
    truth = run_truth(config, parameters, TWO_CELL_TRUTH, scratch)
    (directory / "target").mkdir(exist_ok=True)
    shutil.copyfile(truth / "soma_v.h5", directory / "target" / "soma_v.h5")
    shutil.rmtree(scratch)
    starts = {"amp": 0.04, "g_pas": 1.5e-4, "gap": 1.5}
    lines = ["# neurodamus fit configs/fit-example/fit.yaml (docs/fit.md): three parameters",
             "# of a two-cell circuit, from 50 % away, to the soma voltages of the truth.",
             "simulation_config: simulation_config.json",
             "output_dir: fit_output",
             "parameters:"]
    for p in parameters:
        lines.append(f"  - name: {p['name']}")
        lines.append(f"    bounds: [{', '.join(_yaml_number(b) for b in p['bounds'])}]")
        if p.get("scale"):
            lines.append(f"    scale: {p['scale']}")
        lines.append(f"    initial: {_yaml_number(starts[p['name']])}")
        lines.append(f"    apply: {json.dumps(p['apply'])}")
    lines += ["targets:",
              "  - name: soma",
              "    type: report",
              "    file: target/soma_v.h5",
              "    report: soma_v",
              "    loss: rms",
              "optimiser:",
              "  method: nelder-mead",
              "  budget: 60",
              "  seed: 1"]
    spec = directory / "fit.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


if __name__ == "__main__":
    print(build_fit_example(sys.argv[1]))
