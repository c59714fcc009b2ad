"""A small circuit with the features of published BBP/OBI circuits, built from files of our
own writing: an e-model template with the published contract (NdTestEModel.hoc: needed node
attribute, replaced axon, two-argument connect2target, no threshold variable), synapse
mechanisms with the ProbAMPANMDA_EMS / ProbGABAAB_EMS interface (in `mechanisms/`, given
with --mechanisms), morphologies whose axon has several sections (so SONATA section ids
count the removed axon), and dynamics_params/AIS_scaler on the nodes.
"""

import json
import shutil
from pathlib import Path

import numpy as np

from ..circuit_builder import write_circuit_config
from ..morphologies import SWC_APICAL, SWC_AXON, SWC_BASAL, _SwcWriter
from ..sonata_files import edge_indices, sonata_file, write_edge_population, write_node_population

HERE = Path(__file__).resolve().parent
TEMPLATE = "NdTestEModel"
AXON_SECTIONS = 4  # in the morphology; the template keeps 2
BASAL_SECTIONS, APICAL_SECTIONS = 2, 1
# SONATA ids: soma 0, axon 1..4, basal 5..6, apical 7.
FIRST_BASAL = 1 + AXON_SECTIONS
FIRST_APICAL = FIRST_BASAL + BASAL_SECTIONS
__all__ = ["build_bbp_style_circuit", "mechanism_dir"]


def mechanism_dir() -> Path:
    """The ProbAMPANMDA_EMS / ProbGABAAB_EMS stand-ins (for --mechanisms)."""
    return HERE / "mod"


def _write_morphology(path: Path, rng) -> None:
    swc = _SwcWriter(rng.uniform(8.0, 10.0))
    trunk = swc.chain(SWC_AXON, 1, (0, -9, 0), (0, -1, 0), 60.0, 0.5)
    left = swc.chain(SWC_AXON, trunk, swc.point(trunk), (-1, -1, 0), 80.0, 0.4)
    swc.chain(SWC_AXON, trunk, swc.point(trunk), (1, -1, 0), 80.0, 0.4)
    swc.chain(SWC_AXON, left, swc.point(left), (-1, -2, 0), 60.0, 0.3)
    for side in (-1, 1):
        swc.chain(SWC_BASAL, 1, (side * 9, 0, 0), (side, -0.3, 0), rng.uniform(100, 150), 1.0)
    swc.chain(SWC_APICAL, 1, (0, 9, 0), (0, 1, 0), rng.uniform(200, 300), 1.5)
    swc.write(path)


def build_bbp_style_circuit(directory, n_cells: int = 4, synapses_per_cell: int = 6,
                            seed: int = 7, section_ids=None) -> Path:
    """Write the circuit into `directory`; returns its circuit config. `section_ids`
    (one per edge) replaces the generated afferent_section_id (e.g. to point into the
    removed axon)."""
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    for sub in ("morphologies", "emodels"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    _write_morphology(directory / "morphologies" / "bbp_morph.swc", rng)
    shutil.copy(HERE / f"{TEMPLATE}.hoc", directory / "emodels" / f"{TEMPLATE}.hoc")
    population = "cortex"
    attributes = {"model_template": f"hoc:{TEMPLATE}", "model_type": "biophysical",
                  "morphology": "bbp_morph", "mtype": "L5_TPC",
                  **{axis: rng.uniform(0, 200, n_cells) for axis in "xyz"}}
    dynamics = {"AIS_scaler": rng.uniform(1.0, 1.5, n_cells), "threshold_current": 0.3,
                "holding_current": -0.02}
    with sonata_file(directory / "nodes.h5") as f:  # a single group, implicit (no group ids)
        write_node_population(f, population, n_cells, attributes, dynamics, group_index=False)
    dendrites = np.arange(FIRST_BASAL, FIRST_APICAL + APICAL_SECTIONS)
    edges = write_edges(directory, population, n_cells, synapses_per_cell, rng,
                        lambda n: dendrites[rng.integers(0, dendrites.size, n)]
                        if section_ids is None else np.asarray(section_ids))
    (directory / "node_sets.json").write_text(json.dumps({"All": {"population": population}}))
    return write_circuit_config(
        directory, {"biophysical_neuron_models_dir": "$BASE_DIR/emodels",
                    "morphologies_dir": "$BASE_DIR/morphologies"},
        [("nodes.h5", {population: {"type": "biophysical"}})],
        [("edges.h5", {edges: {"type": "chemical"}})])


def write_edges(directory: Path, population: str, n_cells: int, synapses_per_cell: int, rng,
                section_ids) -> str:
    """edges.h5: `synapses_per_cell` recurrent synapses on each cell from other cells, with
    the ProbAMPANMDA_EMS / ProbGABAAB_EMS edge attributes (30% inhibitory);
    `section_ids(n)` gives each synapse's afferent_section_id. Returns the edge population."""
    targets = np.repeat(np.arange(n_cells), synapses_per_cell)
    sources = (targets + rng.integers(1, n_cells, targets.size)) % n_cells
    order = np.lexsort((sources, targets))
    sources, targets = sources[order], targets[order]
    n = targets.size
    ids = section_ids(n)
    inhibitory = rng.random(n) < 0.3
    edges = f"{population}__{population}__chemical"
    columns = {
        "afferent_section_id": ids.astype(np.int64),
        "afferent_section_pos": rng.uniform(0.1, 0.9, n).astype(np.float32),
        "conductance": rng.uniform(2.0, 4.0, n).astype(np.float32),
        "conductance_scale_factor": rng.uniform(0.3, 0.8, n).astype(np.float32),
        "delay": rng.uniform(1.0, 3.0, n).astype(np.float32),
        "syn_type_id": np.where(inhibitory, 10, 120).astype(np.int64),
        "u_syn": rng.uniform(0.4, 0.9, n).astype(np.float32),
        "depression_time": rng.uniform(500, 700, n).astype(np.float32),
        "facilitation_time": rng.uniform(5, 20, n).astype(np.float32),
        "decay_time": np.where(inhibitory, 8.0, 1.7).astype(np.float32),
        "n_rrp_vesicles": rng.integers(1, 4, n).astype(np.int64),
    }
    with sonata_file(directory / "edges.h5") as f:  # already sorted; no group ids
        write_edge_population(f, edges, population, population, sources, targets, columns,
                              sort=False, group_index=False)
    edge_indices(directory / "edges.h5", edges, n_cells, n_cells)
    return edges
