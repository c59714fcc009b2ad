"""A small circuit with the features of the reference simulator's ringtest_allen_v1: a
point_process population of hoc templates that keep an IntFire1 in `pointcell`, a
biophysical population of a hoc template, a virtual population replayed onto both, and
edge populations of the types `point_process` (NetCons into the artificial cells) and
`Exp2Syn_synapse` (Exp2Syn synapses from tau1, tau2, erev, conductance).

    input -> pts    point_process     input -> ball   Exp2Syn_synapse
    pts   -> pts    point_process     pts   -> ball   Exp2Syn_synapse
    ball  -> pts    point_process     ball  -> ball   Exp2Syn_synapse

The templates are written here (emodels/): NdTestBall is a soma with hh and two passive
dendrites that ignores its morphology argument (section ids: soma 0, dend[k] k + 1);
NdTestIntFireExc / NdTestIntFireInh hold an IntFire1 (tau, refrac in ms below), with the
reference templates' CellRef, re_init_rng and clear; NdTestNoPointCell keeps its IntFire1
under another name (bad input). Every value is drawn from the seed and written to the
files, so a hand-built network can read them back.
"""

import json
from pathlib import Path

import h5py
import numpy as np

from .circuit_builder import write_poisson_spikes, write_simulation_config
from .point_style import Edges, Nodes, build_point_style_circuit, unique_pairs
from .sonata_files import string_dataset

SIZES = {"input": 6, "pts": 5, "ball": 3}
POINT_TEMPLATES = {"NdTestIntFireExc": (12.0, 2.0), "NdTestIntFireInh": (6.0, 1.5)}  # tau, refrac
BALL = "NdTestBall"
NO_POINTCELL = "NdTestNoPointCell"
# Edge population -> its type in the circuit config.
EDGE_TYPES = {"input__pts": "point_process", "pts__pts": "point_process",
              "ball__pts": "point_process", "input__ball": "Exp2Syn_synapse",
              "pts__ball": "Exp2Syn_synapse", "ball__ball": "Exp2Syn_synapse"}
# As the reference's own circuit does: a weight factor, an Exp2Syn modoverride, a delay.
OVERRIDES = [
    {"name": "ball->pts", "source": "ball", "target": "pts", "weight": 2.0},
    {"name": "pts->ball", "source": "pts", "target": "ball", "weight": 1.5,
     "modoverride": "Exp2Syn"},
    {"name": "input->pts", "source": "input", "target": "pts", "synapse_delay_override": 1.25},
]
INPUT_RATE = 30.0  # Hz per input node

_POINT_HOC = """
begintemplate {name}
public CellRef, pointcell
objref this, CellRef, pointcell
proc init() {{
    CellRef = this
    gid = $1
    {cell} = new IntFire1()
    {cell}.tau = {tau}
    {cell}.refrac = {refrac}
    seed = 0
}}
proc re_init_rng() {{ seed = $1 }}
proc clear() {{ localobj nil
    CellRef = nil
    {cell} = nil
}}
endtemplate {name}
"""

_BALL_HOC = """
begintemplate NdTestBall
public soma, dend, all, somatic, basal, gid
create soma[1], dend[2]
objref all, somatic, basal
proc init() {
    gid = $1
    all = new SectionList()
    somatic = new SectionList()
    basal = new SectionList()
    soma[0] { L = 20  diam = 20  nseg = 1  somatic.append()  all.append()
              insert hh }
    for i = 0, 1 {
        connect dend[i](0), soma[0](1)
        dend[i] { L = 150  diam = 1.5  nseg = 5  basal.append()  all.append()
                  insert pas  g_pas = 0.0001  e_pas = -65 }
    }
    forall { Ra = 100  cm = 1 }
}
endtemplate NdTestBall
"""


def write_templates(directory: Path):
    """The hoc templates into `directory` (the circuit's biophysical_neuron_models_dir)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, (tau, refrac) in POINT_TEMPLATES.items():
        (directory / f"{name}.hoc").write_text(
            _POINT_HOC.format(name=name, cell="pointcell", tau=tau, refrac=refrac))
    (directory / f"{NO_POINTCELL}.hoc").write_text(
        _POINT_HOC.format(name=NO_POINTCELL, cell="artificial", tau=10.0, refrac=2.0)
        .replace("public CellRef, pointcell", "public CellRef, artificial")
        .replace("objref this, CellRef, pointcell", "objref this, CellRef, artificial"))
    (directory / f"{BALL}.hoc").write_text(_BALL_HOC)


def _templates(count: int, names) -> list[str]:
    names = list(names)
    return [f"hoc:{names[i % len(names)]}" for i in range(count)]


def build_point_template_circuit(directory, seed: int = 7, tstop: float = 200.0,
                                 point_templates=None, overrides=None) -> Path:
    """Write the circuit, its templates, the input spikes and the simulation config into
    `directory`; returns the simulation config's path. `point_templates`: the template
    names the pts nodes cycle through (default: the exc and inh ones)."""
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    pts_templates = _templates(SIZES["pts"], point_templates or POINT_TEMPLATES)
    nodes = [
        Nodes("input", SIZES["input"], "virtual"),
        Nodes("pts", SIZES["pts"], "hoc:NdTestIntFireExc", population_type="point_process"),
        Nodes("ball", SIZES["ball"], f"hoc:{BALL}"),
    ]
    edges = [_point_edges(rng, "input", "pts", 3, (0.3, 0.6)),
             _point_edges(rng, "pts", "pts", 2, (-0.5, 0.5), no_self=True),
             _point_edges(rng, "ball", "pts", 2, (0.2, 0.4)),
             _exp2syn_edges(rng, "input", "ball", 3, (0.01, 0.02), (0.0, 0.0)),
             _exp2syn_edges(rng, "pts", "ball", 3, (0.004, 0.012), (-80.0, 0.0)),
             _exp2syn_edges(rng, "ball", "ball", 1, (0.005, 0.01), (0.0, 0.0), no_self=True)]
    circuit = build_point_style_circuit(directory, nodes, edges, seed=seed)
    with h5py.File(directory / "nodes.h5", "r+") as f:  # one template per node
        group = f["nodes/pts/0"]
        del group["model_template"]
        string_dataset(group, "model_template", pts_templates)
    raw = json.loads(circuit.read_text())
    for entry in raw["networks"]["edges"]:
        for name, properties in entry["populations"].items():
            properties["type"] = EDGE_TYPES[name]
    circuit.write_text(json.dumps(raw, indent=2))
    write_templates(directory / "emodels")
    write_poisson_spikes(directory / "input_spikes.h5", "input", range(SIZES["input"]),
                         rate=INPUT_RATE, tstop=tstop - 20.0, seed=seed)
    inputs = {"input": {"module": "synapse_replay", "input_type": "spikes", "node_set": "All",
                        "spike_file": "input_spikes.h5", "delay": 0.0, "duration": tstop}}
    return write_simulation_config(
        directory, circuit, tstop=tstop, inputs=inputs, node_set="All",
        extra={"connection_overrides": OVERRIDES if overrides is None else overrides})


def _point_edges(rng, source, target, per_target, weights, no_self=False) -> Edges:
    sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target, no_self)
    n = sources.size
    return Edges(f"{source}__{target}", source, target, sources, targets,
                 {"conductance": rng.uniform(*weights, n), "delay": rng.uniform(1.0, 4.0, n),
                  "afferent_section_id": 1, "afferent_section_pos": 0.75})


def _exp2syn_edges(rng, source, target, per_target, conductances, reversals,
                   no_self=False) -> Edges:
    sources, targets = unique_pairs(rng, SIZES[source], SIZES[target], per_target, no_self)
    n = sources.size
    erev = np.where(rng.random(n) < 0.3, reversals[0], reversals[1])
    return Edges(f"{source}__{target}", source, target, sources, targets,
                 {"conductance": rng.uniform(*conductances, n),
                  "delay": rng.uniform(1.0, 4.0, n), "tau1": rng.uniform(0.2, 1.0, n),
                  "tau2": rng.uniform(3.0, 8.0, n), "erev": erev,
                  "afferent_section_id": rng.integers(0, 3, n),
                  "afferent_section_pos": rng.uniform(0.05, 0.95, n)})
