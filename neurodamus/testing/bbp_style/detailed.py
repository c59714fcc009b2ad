"""A circuit of detailed BBP-style e-model cells, from files of our own writing: the
BluePyOpt-shaped template NdTestDetailedEModel.hoc (Import3d on a Neurolucida file, nseg by
length, channels per section list, densities distributed by distance one statement per
segment, the axon replaced by a stub) on detailed .asc morphologies
(testing/detailed_morphologies.py) shared by several cells, and recurrent synapses with the
ProbAMPANMDA_EMS / ProbGABAAB_EMS interface (mechanisms in `mechanism_dir()`).

Used by the test of the per-rank morphology cache (the cells equal the plain template's) and
by `ci/bench-emodel` (the cost of building such cells, by step).
"""

import json
import shutil
from pathlib import Path

import numpy as np

from ..circuit_builder import write_circuit_config
from ..detailed_morphologies import write_detailed_asc
from ..sonata_files import sonata_file, write_node_population
from . import HERE, write_edges

TEMPLATE = "NdTestDetailedEModel"
POPULATION = "cortex"


def template_file() -> Path:
    return HERE / f"{TEMPLATE}.hoc"


def build_detailed_circuit(directory, n_cells: int = 4, n_morphologies: int = 2,
                           synapses_per_cell: int = 6, seed: int = 7, depth: int = 4) -> Path:
    """Write the circuit into `directory` (cell i on morphology i % n_morphologies); returns
    its circuit config."""
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    for sub in ("morphologies", "emodels"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    counts = [write_detailed_asc(directory / "morphologies" / f"detailed_{k}.asc", rng, depth)
              for k in range(n_morphologies)]
    shutil.copy(template_file(), directory / "emodels" / f"{TEMPLATE}.hoc")
    attributes = {"model_template": f"hoc:{TEMPLATE}", "model_type": "biophysical",
                  "morphology": [f"detailed_{i % n_morphologies}" for i in range(n_cells)],
                  **{axis: rng.uniform(0, 500, n_cells) for axis in "xyz"}}
    dynamics = {"threshold_current": 0.3, "holding_current": -0.02}
    with sonata_file(directory / "nodes.h5") as f:  # a single group, implicit (no group ids)
        write_node_population(f, POPULATION, n_cells, attributes, dynamics, group_index=False)
    # SONATA ids: soma 0, the morphology's axon, then basal and apical (same tree shape for
    # every morphology of one depth)
    first_dendrite = 1 + counts[0]["axon"]
    dendrites = np.arange(first_dendrite, first_dendrite + counts[0]["basal"]
                          + counts[0]["apical"])
    edges = write_edges(directory, POPULATION, n_cells, synapses_per_cell, rng,
                        lambda n: dendrites[rng.integers(0, dendrites.size, n)])
    (directory / "node_sets.json").write_text(json.dumps({"All": {"population": POPULATION}}))
    return write_circuit_config(
        directory, {"biophysical_neuron_models_dir": "$BASE_DIR/emodels",
                    "morphologies_dir": "$BASE_DIR/morphologies"},
        [("nodes.h5", {POPULATION: {"type": "biophysical", "alternate_morphologies": {
            "neurolucida-asc": "$BASE_DIR/morphologies"}}})],
        [("edges.h5", {edges: {"type": "chemical"}})])
