"""Cell engines: one per model family, chosen by the population's `type` and the schema of
its nodes' `model_template` (`hoc:`, `ctdb:`, `nml:`, `nrn:`; `hoc:` templates are
e-models in biophysical populations, artificial-cell holders in point ones). Every engine checks its
cells before any is built and builds them with the same interface (gid, sections by SONATA
section id, spike detector, threshold/holding current kept on the Python side).

Load balancing and the dry run measure cells through the same engines, never by asking
which family a cell is: an engine says which nodes are of one kind (they cost the same),
builds one sample of a kind (no gid, nothing registered with the ParallelContext), puts on
it what one afferent connection makes and destroys it again, or declares a fixed cost
where NEURON's complexity measure has nothing to count.

The phases ask `engine_for(population, templates)` (or `engine_groups`); they never ask
which simulator a circuit was written for.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import CircuitError
from ..registry import Registry
from . import import3d_cache
from .allen import allen_kinds, build_allen_cells, check_allen_cells, sample_allen_cell
from .biophysical import (
    build_biophysical_cells,
    check_biophysical_cells,
    destroy_sample,
    hoc_kinds,
    sample_biophysical_cell,
    sample_synapse,
)
from .point import (
    CELL_COST,
    POINT_MODEL_TYPES,
    SYNAPSE_COST,
    build_point_cells,
    build_point_templates,
    check_point_cells,
    check_point_templates,
    destroy_point_sample,
    destroy_point_template,
    point_kinds,
    point_sample_synapse,
    point_template_kinds,
    point_template_synapse,
    sample_point_cell,
    sample_point_template,
)


@dataclass(frozen=True)
class FixedCost:
    """A load-balance cost declared instead of measured, in NEURON's LoadBalance units
    (about one per state variable per segment and time step)."""

    cell: float
    per_synapse: float  # per afferent chemical synapse


@dataclass(frozen=True)
class CellEngine:
    name: str  # shown in the log and run_summary.json
    check: Callable  # (population, node_ids, h, pc) -> local nodes
    build: Callable  # (local nodes, h, pc, run settings, conditions) -> cells
    # For load balancing and the dry run:
    kinds: Callable  # (population, node_ids) -> one hashable kind per node, read in bulk;
    # nodes of one kind cost the same (time and memory)
    sample: Callable  # (population, kind, node_id, h, pc, run settings) -> one hoc cell of
    # that kind (node_id: a node of it, for messages), built off any gid
    destroy: Callable  # (h, sample) -> None: remove what `sample` built from the model
    afferent: Callable  # (h, sample, index) -> what an afferent NetCon targets on it (a
    # synapse made for it, or the cell itself); keep it to keep the synapse
    fixed_cost: FixedCost | None = None  # set: not measured with LoadBalance


ENGINES: Registry[tuple[str, str], CellEngine] = Registry(
    "cell engine", "model_type and model_template")


def register(model_type: str, schema: str, engine: CellEngine):
    """The engine of nodes of this model_type whose model_template has this schema."""
    ENGINES.register((model_type, schema), engine)


register("biophysical", "hoc", CellEngine(
    "hoc template (e-model contract: gid, morphology dir, file, needed attributes)",
    check_biophysical_cells, build_biophysical_cells,
    hoc_kinds, sample_biophysical_cell, destroy_sample, sample_synapse))
# One engine for both Allen schemas, so that a population may mix them (as bmtk's do).
_ALLEN = CellEngine("Allen cell (BioNet Biophys1: SWC with Cell Types JSON or NeuroML2 "
                    "biophysics, axon stub by model_processing)",
                    check_allen_cells, build_allen_cells,
                    allen_kinds, sample_allen_cell, destroy_sample, sample_synapse)
register("biophysical", "ctdb", _ALLEN)
register("biophysical", "nml", _ALLEN)
_POINT = CellEngine("NEURON artificial cell (nrn:IntFire1/2/4, bmtk dynamics_params in seconds)",
                    check_point_cells, build_point_cells,
                    point_kinds, sample_point_cell, destroy_point_sample, point_sample_synapse,
                    fixed_cost=FixedCost(CELL_COST, SYNAPSE_COST))
# The reference simulator's Allen point cells: a hoc template keeping its artificial cell in
# `pointcell`.
_POINT_TEMPLATE = CellEngine("hoc template holding an artificial cell in 'pointcell' (gid, "
                             "morphology dir, file, needed attributes)",
                             check_point_templates, build_point_templates,
                             point_template_kinds, sample_point_template, destroy_point_template,
                             point_template_synapse,
                             fixed_cost=FixedCost(CELL_COST, SYNAPSE_COST))
for _point_type in POINT_MODEL_TYPES:
    register(_point_type, "nrn", _POINT)
    register(_point_type, "hoc", _POINT_TEMPLATE)


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
        unknown = ENGINES.unknown(f"{model_type} with {missing[0]}:",
                                  names=lambda key: f"{key[0]} with {key[1]}:")
        raise CircuitError(unknown, population=population.name,
                           file=population.settings.nodes_file)
    if len({ENGINES[(model_type, s)] for s in schemas}) > 1:
        raise CircuitError(f"nodes mix model_template schemas {', '.join(schemas)}",
                           population=population.name)
    return ENGINES[(model_type, schemas[0])]


def model_type_groups(population, node_ids) -> list[tuple[str | None, np.ndarray]]:
    """(model_type, positions in `node_ids`) groups: a population whose nodes give their own
    model_type (bmtk's multi-group populations) may mix cell families, its virtual nodes
    left out; None: the population's type, for all of them."""
    node_ids = np.asarray(node_ids)
    everything = np.arange(len(node_ids))
    if "model_type" not in population.storage.attribute_names:
        return [(None, everything)]
    kinds = np.asarray(population.attributes(node_ids, ["model_type"])["model_type"]).astype(str)
    present = set(kinds.tolist())
    if not present or present == {population.settings.type}:
        return [(None, everything)]
    # one kind other than the population's is still these nodes' own (a rank may hold only
    # the point neurons of a mixed population)
    return [(kind, np.flatnonzero(kinds == kind)) for kind in sorted(set(kinds.tolist()))
            if kind != "virtual"]


def engine_groups(population, node_ids) -> list[tuple[CellEngine, str | None, np.ndarray]]:
    """(engine, model_type, positions in `node_ids`) for the nodes each engine builds."""
    node_ids = np.asarray(node_ids)
    groups = []
    for model_type, positions in model_type_groups(population, node_ids):
        templates = population.attributes(node_ids[positions], ["model_template"])["model_template"]
        groups.append((engine_for(population, templates, model_type), model_type, positions))
    return groups


def check_local_cells(circuit, local_gids, h, pc) -> tuple[list, dict[str, str]]:
    """The `cells-check` phase: per population, its engine checks the local cells (templates
    load, attributes and morphologies exist) before any cell is built. Gives the (engine,
    checked nodes) pairs to build and each local population's engine name(s)."""
    import3d_cache.install(h)  # before any engine loads NEURON's Import3d
    local = []
    engines: dict[str, str] = {}  # population -> engine name(s)
    for population in circuit.populations.values():
        end = population.offset + population.size
        mask = (local_gids >= population.offset) & (local_gids < end)
        if not mask.any():
            continue
        node_ids = population.node_ids(local_gids[mask])
        for model_type, positions in model_type_groups(population, node_ids):
            ids = node_ids[positions]
            engine = engine_for(population, population.attributes(
                ids, ["model_template"])["model_template"], model_type)
            names = [engines.get(population.name), engine.name]
            known = dict.fromkeys(n for n in names if n)
            engines[population.name] = " + ".join(known)
            local.append((engine, engine.check(population, ids, h, pc)))
    return local, engines


def build_local_cells(local_nodes, h, pc, run, conditions) -> list:
    """The `cells` phase: each engine builds the nodes it checked; one CellRecord per cell."""
    cells: list = []
    for engine, local in local_nodes:
        cells.extend(engine.build(local, h, pc, run, conditions))
    return cells
