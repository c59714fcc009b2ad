"""Cell engines: one per model family, chosen by the population's `type` and the schema of
its nodes' `model_template` (`hoc:`, later `ctdb:`, `nml:`, `nrn:`). Every engine checks its
cells before any is built and builds them with the same interface (gid, sections by SONATA
section id, spike detector, threshold/holding current kept on the Python side).

The phases ask `engine_for(population, templates)`; they never ask which simulator a circuit
was written for.
"""

from dataclasses import dataclass
from typing import Callable

from ..errors import CircuitError
from .allen import build_allen_cells, check_allen_cells
from .biophysical import build_biophysical_cells, check_biophysical_cells
from .point import POINT_MODEL_TYPES, build_point_cells, check_point_cells


@dataclass(frozen=True)
class CellEngine:
    name: str  # shown in the log and run_summary.json
    check: Callable  # (population, node_ids, h, pc) -> local nodes
    build: Callable  # (local nodes, h, pc, run settings, conditions) -> cells


ENGINES: dict[tuple[str, str], CellEngine] = {}


def register(model_type: str, schema: str, engine: CellEngine):
    ENGINES[(model_type, schema)] = engine


register("biophysical", "hoc", CellEngine(
    "hoc template (e-model contract: gid, morphology dir, file, needed attributes)",
    check_biophysical_cells, build_biophysical_cells))
# One engine for both Allen schemas, so that a population may mix them (as bmtk's do).
_ALLEN = CellEngine("Allen cell (BioNet Biophys1: SWC with Cell Types JSON or NeuroML2 "
                    "biophysics, axon stub by model_processing)",
                    check_allen_cells, build_allen_cells)
register("biophysical", "ctdb", _ALLEN)
register("biophysical", "nml", _ALLEN)
for _point_type in POINT_MODEL_TYPES:
    register(_point_type, "nrn", CellEngine(
        "NEURON artificial cell (nrn:IntFire1/2/4, bmtk dynamics_params in seconds)",
        check_point_cells, build_point_cells))


def supported_model_types() -> set[str]:
    """Node population types the driver can simulate (virtual ones only send spikes)."""
    return {model_type for model_type, _ in ENGINES} | {"virtual"}


def engine_for(population, model_templates, model_type: str | None = None) -> CellEngine:
    """The engine for nodes of `population` with these model_template values, and this
    model_type (default: the population's type)."""
    schemas = sorted({str(t).partition(":")[0] for t in model_templates})
    model_type = model_type or population.settings.type
    missing = [s for s in schemas if (model_type, s) not in ENGINES]
    if missing:
        known = ", ".join(f"{t} with {s}:" for t, s in sorted(ENGINES))
        raise CircuitError(f"no cell engine for model_type '{model_type}' with model_template "
                           f"'{missing[0]}:...' (supported: {known})", population=population.name,
                           file=population.settings.nodes_file)
    if len({ENGINES[(model_type, s)] for s in schemas}) > 1:
        raise CircuitError(f"nodes mix model_template schemas {', '.join(schemas)}",
                           population=population.name)
    return ENGINES[(model_type, schemas[0])]
