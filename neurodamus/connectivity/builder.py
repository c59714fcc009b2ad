"""Phase 5 in order: synapses (chemical, point_process and Exp2Syn_synapse edges),
connection overrides, minis, gap junctions, replay."""

from dataclasses import dataclass, field

import libsonata
import numpy as np

from ..errors import CircuitError, ConfigError
from ..mechanisms import set_mechanism_globals
from ..random.reference import set_global_index
from ..registry import Registry
from ..validation import check_afferent_edges
from .delays import whole_steps
from .edges import read_afferent_edges
from .gap_junctions import connect_gap_junctions, transfer_keys
from .minis import add_minis
from .neuromodulation import ModulationOverride, connect_neuromodulation
from .overrides import apply_overrides, gid_array
from .point_process_edges import Exp2SynEdges, PointProcessEdges
from .replay import schedule_replays
from .synapse_models import MODELS as SYNAPSE_MODELS
from .synapse_models import default_model
from .synapses import SynapseFactory
from .templated_edges import TemplatedEdgeConvention

REPLAY_MODULE = "synapse_replay"


@dataclass
class Connections:
    synapses: int = 0
    gap_junctions: int = 0
    minis: int = 0
    replayed_events: int = 0
    modulators: int = 0  # neuromodulatory edges attached to synapses
    keep_alive: list = field(default_factory=list)  # handlers that must live through the run
    warnings: list = field(default_factory=list)  # validation.BadValues, totalled over ranks


class SonataEdgeConvention:
    """SONATA/BBP edges (conductance, syn_type_id, u_syn, ...): the default synapse model of
    the loaded mechanisms, or a connection override's modoverride."""

    name = "SONATA/BBP"
    delay_rule = staticmethod(whole_steps)
    gaba_rise_time = True  # its models' GABA_A synapses take a randomized rise time

    @staticmethod
    def matches(attribute_names) -> bool:
        return True

    @staticmethod
    def describe(settings, edge_settings, h) -> str:
        """The default model, and the modoverrides whose node sets can reach this population."""
        name = default_model(h).name
        node_sets = libsonata.NodeSets(settings.node_sets_json)

        def reaches(node_set, population) -> bool:
            populations = node_sets.referenced_populations(node_set) if node_set else set()
            return not populations or population in populations

        swapped = sorted({o.modoverride for o in settings.connection_overrides
                          if o.modoverride and reaches(o.source, edge_settings.source)
                          and reaches(o.target, edge_settings.target)})
        if swapped:
            name += f" ({', '.join(swapped)} where a modoverride matches)"
        return name

    def __init__(self, settings, circuit, h, pc):
        self.circuit = circuit
        self.factory = SynapseFactory(h, pc, settings.run, settings.conditions,
                                      reference_offsets=circuit.reference_offsets())
        self.default = default_model(h)
        self.swaps = model_overrides(settings.connection_overrides, circuit, h)
        self.extra = sorted({a for _, _, model in self.swaps for a in model.edge_attributes})
        self.needed_by = ", ".join(sorted({model.name for _, _, model in self.swaps}))
        self.dt, self.warnings = settings.run.dt, []

    def connect(self, edge_settings, local) -> int:
        edges = read_afferent_edges(edge_settings, sorted(local), self.extra, self.needed_by)
        self.warnings += check_afferent_edges(edges, edge_settings.edges_file, local, self.dt)
        edges.attributes["delay"] = self.delay_rule(edges.attributes["delay"], self.dt)
        source = self.circuit.populations[edge_settings.source]
        models = models_per_edge(edges, self.default, self.swaps, source.offset,
                                 self.circuit.populations[edge_settings.target].offset)
        return self.factory.connect(edges, local, source.offset, models)


# Edge conventions by edge population type (the circuit config's `type`); within a type,
# asked in order: the first whose `matches(attribute names)` is true connects the
# population (for chemical edges the last, SONATA/BBP, takes whatever bmtk's does not).
# These are the types whose edges make synapses (or NetCons) here; electrical and
# neuromodulatory edges have phases of their own.
EDGE_CONVENTIONS: Registry[str, tuple] = Registry("edge convention", "type", several=True)
EDGE_CONVENTIONS.register("chemical", TemplatedEdgeConvention)
EDGE_CONVENTIONS.register("chemical", SonataEdgeConvention)
EDGE_CONVENTIONS.register("point_process", PointProcessEdges)
EDGE_CONVENTIONS.register("Exp2Syn_synapse", Exp2SynEdges)


def check_gaba_rise_time(settings, h):
    """randomize_gaba_rise_time needs a synapse model with a GABA_A rise time among the
    circuit's chemical edges (the reference simulator refuses it without ProbGABAAB_EMS;
    ours, NdTmInh, has one too)."""
    if not settings.conditions.randomize_gaba_rise_time:
        return
    synaptic = [e for e in settings.circuit.edge_populations if e.type in EDGE_CONVENTIONS]
    if any(convention_for(e).gaba_rise_time for e in synaptic):
        return
    models = sorted({convention_for(e).describe(settings, e, h) for e in synaptic})
    raise ConfigError("cannot randomize the GABA_A rise time: no synapse model of this circuit "
                      "has one (neurodamus needs ProbGABAAB_EMS.mod; here the edges get "
                      f"{'; '.join(models) or 'no synapse model'})",
                      key="conditions.randomize_gaba_rise_time")


def edge_attribute_names(edge_settings) -> frozenset:
    try:
        population = libsonata.EdgeStorage(str(edge_settings.edges_file)).open_population(
            edge_settings.name)
    except (libsonata.SonataError, RuntimeError) as error:
        raise CircuitError(f"cannot open edges: {error}", population=edge_settings.name,
                           file=edge_settings.edges_file) from None
    return frozenset(population.attribute_names)


def convention_for(edge_settings):
    """The convention that connects this edge population (its type has some)."""
    names = edge_attribute_names(edge_settings)
    return EDGE_CONVENTIONS.first(lambda convention: convention.matches(names),
                                  key=edge_settings.type)


def synapse_models_by_population(settings, h) -> dict[str, str]:
    """Which synapse model each synaptic edge population gets (for the log and summary)."""
    return {e.name: convention_for(e).describe(settings, e, h)
            for e in settings.circuit.edge_populations if e.type in EDGE_CONVENTIONS}


def connect_synapses(settings, circuit, cells, h, pc) -> Connections:
    """Chemical synapses, overrides and minis: no collective inside, so a problem found on one
    rank is agreed on before any rank enters the gap-junction set-up."""
    set_mechanism_globals(h, settings.conditions.mechanisms, settings.config_file)
    check_gaba_rise_time(settings, h)
    set_global_index(h, settings.run.random_seed)
    result = Connections()
    cells_by_population = _cells_by_population(cells)
    synaptic = sorted((e for e in settings.circuit.edge_populations
                       if e.type in EDGE_CONVENTIONS), key=lambda e: e.name)
    connectors = {convention: convention(settings, circuit, h, pc)
                  for conventions in EDGE_CONVENTIONS.values() for convention in conventions}
    for edge_settings in synaptic:
        local = cells_by_population.get(edge_settings.target)
        if not local:
            continue
        result.synapses += connectors[convention_for(edge_settings)].connect(edge_settings, local)
    modulation = modulation_overrides(settings.connection_overrides, circuit)
    for edge_settings in sorted(settings.circuit.edge_populations, key=lambda e: e.name):
        local = cells_by_population.get(edge_settings.target)
        if edge_settings.type != "neuromodulatory" or not local:
            continue
        source = circuit.populations[edge_settings.source]
        result.modulators += len(connect_neuromodulation(edge_settings, local, source.offset, h,
                                                         modulation, settings.run.dt))
    result.keep_alive.append(apply_overrides(settings.connection_overrides, circuit, cells, h))
    result.minis = add_minis(cells, settings.run.minis_seed, h, settings.run.tstop)
    result.warnings = [w for c in connectors.values() for w in getattr(c, "warnings", ())]
    result.keep_alive += [k for c in connectors.values() for k in getattr(c, "keep_alive", ())]
    return result


def modulation_overrides(overrides, circuit) -> list:
    """What each override says about neuromodulatory events, in config order."""
    out = []
    for override in overrides:
        said = (override.neuromodulation_strength, override.neuromodulation_dtc, override.weight)
        if all(value is None for value in said):
            continue
        out.append(ModulationOverride(
            frozenset(gid_array(circuit, override.source).tolist()),
            frozenset(gid_array(circuit, override.target).tolist()),
            override.neuromodulation_strength, override.neuromodulation_dtc,
            None if override.weight is None else override.weight > 0))
    return out


def model_overrides(overrides, circuit, h) -> list:
    """(source gids, target gids, model) of each override with a modoverride, in order."""
    swaps = []
    for index, override in enumerate(overrides):
        if override.modoverride is None:
            continue
        model = SYNAPSE_MODELS[override.modoverride]
        if not model.available(h):
            raise ConfigError(f"modoverride '{override.modoverride}' needs the mechanisms "
                              f"{', '.join(sorted(set(model.mechanisms)))}, which are not loaded",
                              key=f"connection_overrides[{index}].modoverride")
        swaps.append((gid_array(circuit, override.source), gid_array(circuit, override.target),
                      model))
    return swaps


def models_per_edge(edges, default, swaps, source_offset: int, target_offset: int):
    """The model of each edge: the last matching modoverride wins, else the default."""
    if not swaps:
        return default
    chosen = np.zeros(len(edges), np.int64)  # 0: default, k: swaps[k - 1]
    sources = edges.source_node_ids + source_offset
    targets = edges.target_node_ids + target_offset
    for k, (source_gids, target_gids, _) in enumerate(swaps, start=1):
        chosen[np.isin(sources, source_gids) & np.isin(targets, target_gids)] = k
    candidates = [default] + [model for _, _, model in swaps]
    return [candidates[k] for k in chosen.tolist()]


def _cells_by_population(cells) -> dict:
    by_population: dict[str, dict] = {}
    for cell in cells:
        by_population.setdefault(cell.population, {})[cell.node_id] = cell
    return by_population


def connect_gap_junction_halves(result: Connections, settings, cells, h, pc):
    """The local half-junctions (no collective; connect_rest sets up the transfer)."""
    cells_by_population = _cells_by_population(cells)
    electrical = [e for e in settings.circuit.edge_populations if e.type == "electrical"]
    if electrical:
        bases = transfer_keys(electrical)
        for edge_settings in electrical:
            result.gap_junctions += connect_gap_junctions(
                edge_settings, bases[edge_settings.name], cells_by_population, h, pc)


def connect_rest(result: Connections, settings, circuit, cells, h, pc) -> Connections:
    """Gap-junction voltage transfer (a collective: every rank takes part, after the halves
    are agreed on) and replay."""
    if any(e.type == "electrical" for e in settings.circuit.edge_populations):
        pc.setup_transfer()
    replays = [i for i in settings.inputs if i.module == REPLAY_MODULE]
    if replays:
        replay = schedule_replays(replays, circuit, cells, h, settings.config_file.parent)
        result.replayed_events = replay.event_count
        result.keep_alive.append(replay)
    return result
