"""A small circuit in the Allen Institute (bmtk/BioNet) convention, from files of our own
writing: one SWC morphology, a NeuroML2 `.cell.nml` and a Cell Types JSON with the same
biophysics (NEURON's built-in `pas` and `hh` only, so nothing needs compiling), an
all-active JSON, and a strict SONATA nodes file whose nodes use them in the ways the
Allen examples do (`ctdb:Biophys1.hoc` with aibs_perisomatic / aibs_allactive / no
processing, `nml:` with aibs_perisomatic and no JSON; a morphology named without `.swc`).

The biophysics: Ra 100 ohm cm; cm 1 (soma, axon) and 2 uF/cm2 (dend, apic); pas
everywhere with e_pas -65 mV; hh (gl_hh 0) in soma and axon with ena 50, ek -77 mV.
hh is the squid axon model: simulate at celsius 6.3.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .morphologies import SWC_APICAL, SWC_AXON, SWC_BASAL, _SwcWriter
from .sonata_files import sonata_file, write_node_population

POPULATION = "allen"
MORPHOLOGY = "allen_cell"  # the file is allen_cell.swc
NML_FILE = "Cell_ndtest.cell.nml"
PERISOMATIC_JSON = "ndtest_perisomatic.json"
ALLACTIVE_JSON = "ndtest_allactive.json"
# Sections the morphology has, per kind (Import3d names them dend, axon, apic).
SECTIONS = {"soma": 1, "dend": 4, "axon": 4, "apic": 3}

RA = 100.0
CM = {"soma": 1.0, "axon": 1.0, "dend": 2.0, "apic": 2.0}
E_PAS = -65.0
G_PAS = {"soma": 5e-5, "axon": 1e-4, "dend": 3e-5, "apic": 3e-5}
HH = {"gnabar_hh": 0.12, "gkbar_hh": 0.036, "gl_hh": 0.0}
ENA, EK = 50.0, -77.0
ACTIVE_KINDS = ("soma", "axon")

# (model_template, morphology, model_processing, dynamics_params_file) per node.
NODES = (
    ("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_perisomatic", PERISOMATIC_JSON),
    (f"nml:{NML_FILE}", MORPHOLOGY + ".swc", "aibs_perisomatic", ""),
    ("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_allactive", ALLACTIVE_JSON),
    ("ctdb:Biophys1.hoc", MORPHOLOGY + ".swc", "", ""),
)


@dataclass(frozen=True)
class AllenStyleCircuit:
    directory: Path
    circuit_config: Path
    nodes_file: Path
    population: str
    morphologies_dir: Path
    models_dir: Path


def write_morphology(path: Path) -> None:
    """Soma (radius 7 um); a basal tree of three sections; an axon of four sections whose
    diameters narrow (1.2 um first, 0.5 um last); an apical tree of three; a second,
    unbranched basal dendrite last in the file."""
    # No length is near a multiple of 10 um, so that nseg from dL does not hang on the
    # last digit of the coordinates (BioNet's own copy of Import3d rounds them to 6).
    swc = _SwcWriter(7.0)
    trunk = swc.chain(SWC_BASAL, 1, (-7, 0, 0), (-1, -0.2, 0), 44.0, 0.8)
    swc.chain(SWC_BASAL, trunk, swc.point(trunk), (-1, 0.5, 0), 63.0, 0.5)
    swc.chain(SWC_BASAL, trunk, swc.point(trunk), (-1, -0.8, 0), 45.0, 0.45)
    axon = swc.chain(SWC_AXON, 1, (0, -7, 0), (0, -1, 0), 50.0, 0.6)
    branch = swc.chain(SWC_AXON, axon, swc.point(axon), (-0.5, -1, 0), 83.0, 0.4)
    swc.chain(SWC_AXON, axon, swc.point(axon), (0.5, -1, 0), 73.0, 0.35)
    swc.chain(SWC_AXON, branch, swc.point(branch), (-1, -1, 0.2), 43.0, 0.25)
    apical = swc.chain(SWC_APICAL, 1, (0, 7, 0), (0, 1, 0), 124.0, 1.2)
    swc.chain(SWC_APICAL, apical, swc.point(apical), (-0.4, 1, 0), 93.0, 0.6)
    swc.chain(SWC_APICAL, apical, swc.point(apical), (0.4, 1, 0), 73.0, 0.55)
    swc.chain(SWC_BASAL, 1, (7, 0, 0), (1, -0.2, 0), 55.0, 0.7)
    swc.write(path)


def write_cell_nml(path: Path, cell_id: str = "ndtest") -> None:
    """The biophysics as a NeuroML2 cell, in NEURON's units (BioNet reads the numbers and
    ignores the units, so this file means the same to both)."""
    lines = [f'    <cell id="{cell_id}">', '        <biophysicalProperties id="biophys">',
             "            <membraneProperties>"]
    for kind in ACTIVE_KINDS:
        for name, ion, erev in (("gnabar_hh", "na", ENA), ("gkbar_hh", "k", EK),
                                ("gl_hh", "non_specific", -54.3)):
            lines.append(f'                <channelDensity id="{name}" segmentGroup="{kind}" '
                         f'ion="{ion}" ionChannel="hh" erev="{erev} mV" '
                         f'condDensity="{HH[name]} S_per_cm2"/>')
    for kind, g in G_PAS.items():
        lines.append(f'                <channelDensity id="g_pas_{kind}" segmentGroup="{kind}" '
                     f'ion="non_specific" ionChannel="pas" erev="{E_PAS} mV" '
                     f'condDensity="{g} S_per_cm2"/>')
    for kind, cm in CM.items():
        lines.append(f'                <specificCapacitance segmentGroup="{kind}" '
                     f'value="{cm} uF_per_cm2"/>')
    lines += ["            </membraneProperties>", "            <intracellularProperties>",
              f'                <resistivity segmentGroup="all" value="{RA} ohm_cm"/>',
              "            </intracellularProperties>", "        </biophysicalProperties>",
              "    </cell>"]
    path.write_text('<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="ndtest_doc">\n'
                    + "\n".join(lines) + "\n</neuroml>\n")


def perisomatic_parameters() -> dict:
    """The same biophysics as a Cell Types JSON for aibs_perisomatic."""
    genome = [{"section": kind, "name": "g_pas", "value": g, "mechanism": ""}
              for kind, g in G_PAS.items()]
    genome += [{"section": kind, "name": name, "value": value, "mechanism": "hh"}
               for kind in ACTIVE_KINDS for name, value in HH.items()]
    return {
        "passive": [{"ra": RA, "e_pas": E_PAS,
                     "cm": [{"section": kind, "cm": cm} for kind, cm in CM.items()]}],
        "conditions": [{"celsius": 6.3, "v_init": -65.0,
                        "erev": [{"section": kind, "ena": ENA, "ek": EK}
                                 for kind in ACTIVE_KINDS]}],
        "genome": genome,
    }


def allactive_parameters() -> dict:
    """An all-active JSON in the later Allen style: values as strings, a `glob` entry
    (skipped), erev listed for every kind (set only where the ions exist)."""
    params = perisomatic_parameters()
    params["passive"] = [{"ra": RA, "cm": [{"section": k, "cm": cm} for k, cm in CM.items()]}]
    params["genome"] = ([{"section": "glob", "name": "celsius", "value": "6.3", "mechanism": ""}]
                        + [dict(entry, value=str(entry["value"])) for entry in params["genome"]]
                        + [{"section": kind, "name": "e_pas", "value": str(E_PAS),
                            "mechanism": ""} for kind in CM])
    params["conditions"][0]["erev"] = [{"section": kind, "ena": ENA, "ek": EK} for kind in CM]
    return params


def build_allen_style_circuit(directory, nodes=NODES) -> AllenStyleCircuit:
    """Write the morphology, the parameter files, the nodes file, node sets ("All") and a
    circuit config."""
    directory = Path(directory)
    morphologies, models = directory / "morphologies", directory / "biophysical_neuron_models"
    morphologies.mkdir(parents=True, exist_ok=True)
    models.mkdir(parents=True, exist_ok=True)
    write_morphology(morphologies / f"{MORPHOLOGY}.swc")
    write_cell_nml(models / NML_FILE)
    (models / PERISOMATIC_JSON).write_text(json.dumps(perisomatic_parameters(), indent=2))
    (models / ALLACTIVE_JSON).write_text(json.dumps(allactive_parameters(), indent=2))
    nodes_file = directory / "nodes.h5"
    count = len(nodes)
    columns = ("model_template", "morphology", "model_processing", "dynamics_params_file")
    attributes: dict = {name: [node[i] for node in nodes] for i, name in enumerate(columns)}
    attributes["model_type"] = "biophysical"
    for i, axis in enumerate("xyz"):
        attributes[axis] = np.arange(count, dtype=float) * 100 + i
        attributes[f"rotation_angle_{axis}axis"] = np.linspace(0, 0.3, count) * (i + 1)
    with sonata_file(nodes_file) as f:
        write_node_population(f, POPULATION, count, attributes)
    (directory / "node_sets.json").write_text(json.dumps({"All": {"population": POPULATION}}))
    config = directory / "circuit_config.json"
    config.write_text(json.dumps({
        "manifest": {"$BASE_DIR": "."},
        "node_sets_file": "$BASE_DIR/node_sets.json",
        "components": {"morphologies_dir": "$BASE_DIR/morphologies",
                       "biophysical_neuron_models_dir": "$BASE_DIR/biophysical_neuron_models"},
        "networks": {"nodes": [{"nodes_file": "$BASE_DIR/nodes.h5",
                                "populations": {POPULATION: {"type": "biophysical"}}}],
                     "edges": []},
    }, indent=2))
    return AllenStyleCircuit(directory, config, nodes_file, POPULATION, morphologies, models)
