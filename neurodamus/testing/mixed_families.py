"""One strict SONATA circuit in which every cell family the driver has an engine for meets
every edge convention, composed from the family generators (files of our own writing only):

- `input`: virtual sources, replayed from a Poisson spike file;
- `ours`: our hoc template NdExcCell (circuit_builder's / point_style's cells);
- `cortex`: BBP-style e-models NdTestEModel with their recurrent edges (bbp_style);
- `allen`: Allen cells, ctdb:Biophys1.hoc perisomatic and all-active and nml: (allen_style);
- `point`: point neurons nrn:IntFire1, population type point_process (point_style).

Edge populations, named source__target__chemical, in both conventions:

    SONATA/BBP (conductance, syn_type_id, ...)   bmtk (syn_weight, model_template, ...)
    input  -> cortex   ProbAMPANMDA_EMS          input -> allen  Exp2Syn at the soma
    cortex -> cortex   ProbAMPANMDA/ProbGABAAB   ours  -> allen  Exp2Syn, nsyns placed
    input  -> ours     NdTm (modoverride)        input -> point  NetCons (weak alone)
    point  -> ours     NdTm (modoverride)        allen -> point  NetCons

The BBP stand-in mechanisms (ProbAMPANMDA_EMS / ProbGABAAB_EMS) are the circuit's
components.mechanisms_dir, so they are the default SONATA model; a connection override
(`modoverride: NdTm`) gives the edges onto our cells our own model, so one run has both.

The drive is a chain, so that each family fires only when the edges into it work: the
replay drives `ours` and `cortex` (which a current step also drives); `allen` needs the
spikes of `ours` (its replayed input alone is subthreshold), `point` those of `allen` (its
replayed input alone is subthreshold). `weight_scale` multiplies the weights of chosen
edge populations (0 cuts them), for control runs.
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import allen_style, bbp_style
from .circuit_builder import write_circuit_config, write_poisson_spikes, write_simulation_config
from .point_style import (
    Edges,
    Nodes,
    build_point_style_circuit,
    unique_pairs,
    write_edges,
)

SIZES = {"input": 8, "ours": 4, "cortex": 4, "allen": 3, "point": 6}
ALLEN_NODES = allen_style.NODES[:3]  # the fourth has no biophysics: it cannot fire
RECURRENT = "cortex__cortex__chemical"  # bbp_style's own edges
# Edge population -> its convention.
EDGE_CONVENTIONS = {RECURRENT: "SONATA", "input__cortex__chemical": "SONATA",
                    "input__ours__chemical": "SONATA", "point__ours__chemical": "SONATA",
                    "input__allen__chemical": "bmtk", "ours__allen__chemical": "bmtk",
                    "input__point__chemical": "bmtk", "allen__point__chemical": "bmtk"}
OURS_BASAL = np.arange(2, 8)  # write_pyramidal: soma 0, axon 1, basal 2..7, apical 8..10
CORTEX_DENDRITES = np.arange(bbp_style.FIRST_BASAL,
                             bbp_style.FIRST_APICAL + bbp_style.APICAL_SECTIONS)
EXCITATORY = 120  # syn_type_id


@dataclass(frozen=True)
class MixedCircuit:
    directory: Path
    circuit_config: Path
    simulation_config: Path
    spike_file: Path
    tstop: float


def _sonata_edges(rng, name, source, target, per_target, conductance, sections,
                  depression=(500.0, 700.0)) -> Edges:
    """SONATA/BBP edges (conductance nS, Tsodyks-Markram parameters), excitatory, on
    `sections` (SONATA section ids of the target's morphology)."""
    sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target,
                                    no_self=source == target)
    n = sources.size
    attributes = {
        "afferent_section_id": sections[rng.integers(0, sections.size, n)].astype(np.int64),
        "afferent_section_pos": rng.uniform(0.1, 0.9, n).astype(np.float32),
        "conductance": (conductance * rng.uniform(0.8, 1.2, n)).astype(np.float32),
        "conductance_scale_factor": np.full(n, 0.5, np.float32),
        "delay": rng.uniform(1.0, 3.0, n).astype(np.float32),
        "syn_type_id": np.full(n, EXCITATORY, np.int64),
        "u_syn": rng.uniform(0.4, 0.6, n).astype(np.float32),
        "depression_time": rng.uniform(*depression, n).astype(np.float32),
        "facilitation_time": rng.uniform(10, 20, n).astype(np.float32),
        "decay_time": np.full(n, 1.7, np.float32),
        "n_rrp_vesicles": rng.integers(1, 4, n).astype(np.int64),
    }
    return Edges(name, source, target, sources, targets, attributes)


def _exp2syn_edges(rng, name, source, target, per_target, weight, placement) -> Edges:
    """bmtk edges onto compartmental cells: Exp2Syn (AMPA-like), weight uS."""
    sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target)
    n = sources.size
    attributes = {"syn_weight": weight * rng.uniform(0.8, 1.2, n),
                  "delay": rng.uniform(1.0, 2.0, n), "model_template": "Exp2Syn",
                  "weight_function": "wmax", "dynamics_params_file": "AMPA_ExcToExc.json",
                  **placement(n)}
    return Edges(name, source, target, sources, targets, attributes,
                 {"tau1": 1.0, "tau2": 3.0, "erev": 0.0})


def _netcon_edges(rng, name, source, target, per_target, weight) -> Edges:
    """bmtk edges onto point neurons: NetCons of weight syn_weight x sign x nsyns."""
    sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target)
    n = sources.size
    attributes = {"syn_weight": weight * rng.uniform(0.8, 1.2, n),
                  "delay": rng.uniform(1.0, 2.0, n), "nsyns": rng.integers(1, 3, n),
                  "model_template": "", "weight_function": "wmax",
                  "dynamics_params_file": "instantaneousExc.json"}
    return Edges(name, source, target, sources, targets, attributes, {"sign": 1.0})


def cross_edges(seed: int) -> list[Edges]:
    """The edge populations between families (all but bbp_style's recurrent one)."""
    rng = np.random.default_rng(seed)

    def soma(n):
        return {"afferent_section_id": np.zeros(n, np.int64),
                "afferent_section_pos": np.full(n, 0.5)}

    def dendrites(n):
        return {"nsyns": rng.integers(2, 4, n), "target_sections": "['basal', 'apical']",
                "distance_range": "[20.0, 200.0]"}

    return [
        _sonata_edges(rng, "input__cortex__chemical", "input", "cortex", 3, 1.0,
                      CORTEX_DENDRITES),
        _sonata_edges(rng, "input__ours__chemical", "input", "ours", 4, 20.0, OURS_BASAL,
                      (100.0, 200.0)),
        _sonata_edges(rng, "point__ours__chemical", "point", "ours", 2, 5.0, OURS_BASAL,
                      (100.0, 200.0)),
        _exp2syn_edges(rng, "input__allen__chemical", "input", "allen", 2, 0.0005, soma),
        _exp2syn_edges(rng, "ours__allen__chemical", "ours", "allen", 3, 0.004, dendrites),
        _netcon_edges(rng, "input__point__chemical", "input", "point", 2, 0.1),
        _netcon_edges(rng, "allen__point__chemical", "allen", "point", 2, 0.6),
    ]


def _scaled(edges: Edges, factor: float) -> Edges:
    key = "syn_weight" if "syn_weight" in edges.attributes else "conductance"
    attributes = dict(edges.attributes)
    attributes[key] = np.asarray(attributes[key]) * factor
    return Edges(edges.name, edges.source, edges.target, edges.sources, edges.targets,
                 attributes, edges.dynamics)


def build_mixed_circuit(directory, *, tstop: float = 200.0, input_rate: float = 30.0,
                        step_amp: float = 0.5, weight_scale: dict | None = None,
                        seed: int = 5) -> MixedCircuit:
    """Write the circuit (families in sub-directories, one circuit config on top), the
    replay spikes and the simulation config into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    scale = dict(weight_scale or {})
    unknown = sorted(set(scale) - (set(EDGE_CONVENTIONS) - {RECURRENT}))
    if unknown:
        raise ValueError(f"weight_scale names no cross-family edge population: {unknown}")

    bbp_style.build_bbp_style_circuit(directory / "bbp", n_cells=SIZES["cortex"], seed=seed)
    allen_style.build_allen_style_circuit(directory / "allen", nodes=ALLEN_NODES)
    build_point_style_circuit(directory / "point", [
        Nodes("input", SIZES["input"], "virtual"),
        Nodes("ours", SIZES["ours"], "hoc:NdExcCell"),
        Nodes("point", SIZES["point"], "nrn:IntFire1",
              dynamics={"tau": np.linspace(0.015, 0.025, SIZES["point"]), "refrac": 0.003}),
    ], [], seed=seed)
    for part in ("bbp", "allen", "point"):  # the one circuit config is the composed one
        for name in ("circuit_config.json", "node_sets.json"):
            (directory / part / name).unlink()
    mechanisms = directory / "mechanisms"
    shutil.copytree(bbp_style.mechanism_dir(), mechanisms, dirs_exist_ok=True)

    (directory / "edges").mkdir(exist_ok=True)
    for edges in cross_edges(seed):
        write_edges(directory / "edges", _scaled(edges, scale.get(edges.name, 1.0)), SIZES)

    circuit_config = _write_circuit_config(directory)
    spike_file = write_poisson_spikes(directory / "input_spikes.h5", "input",
                                      range(SIZES["input"]), rate=input_rate,
                                      tstop=tstop - 20.0, seed=seed)
    inputs = {
        "replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "All",
                   "spike_file": spike_file.name, "delay": 0.0, "duration": tstop},
        "step": {"module": "linear", "input_type": "current_clamp", "node_set": "cortex",
                 "amp_start": step_amp, "delay": 5.0, "duration": tstop - 10.0},
    }
    overrides = [{"name": "ours_get_NdTm", "source": "Everything", "target": "ours",
                  "modoverride": "NdTm"}]
    simulation_config = write_simulation_config(
        directory, circuit_config, tstop=tstop, inputs=inputs, node_set="All",
        random_seed=seed, extra={"connection_overrides": overrides})
    return MixedCircuit(directory, circuit_config, simulation_config, spike_file, tstop)


def _write_circuit_config(directory: Path) -> Path:
    def biophysical(part, models):
        return {"type": "biophysical", "morphologies_dir": f"$BASE_DIR/{part}/morphologies",
                "biophysical_neuron_models_dir": f"$BASE_DIR/{part}/{models}"}

    edge_files = {RECURRENT: "bbp/edges.h5"}
    edge_files.update({name: f"edges/edges_{name}.h5" for name in EDGE_CONVENTIONS
                       if name != RECURRENT})
    node_sets: dict[str, Any] = {name: {"population": name} for name in SIZES}
    node_sets["All"] = [name for name in SIZES if name != "input"]
    node_sets["Everything"] = list(SIZES)
    (directory / "node_sets.json").write_text(json.dumps(node_sets, indent=2))
    return write_circuit_config(
        directory, {"mechanisms_dir": "$BASE_DIR/mechanisms"},
        [("point/nodes.h5", {"input": {"type": "virtual"},
                             "ours": biophysical("point", "emodels"),
                             "point": {"type": "point_process"}}),
         ("bbp/nodes.h5", {"cortex": biophysical("bbp", "emodels")}),
         ("allen/nodes.h5", {"allen": biophysical("allen", "biophysical_neuron_models")})],
        [(path, {name: {"type": "chemical"}}) for name, path in sorted(edge_files.items())])
