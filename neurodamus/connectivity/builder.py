"""Phase 5 in order: chemical synapses, connection overrides, minis, gap junctions, replay."""

from dataclasses import dataclass, field

from ..mechanisms import set_mechanism_globals
from .edges import read_afferent_edges
from .gap_junctions import connect_gap_junctions, transfer_keys
from .minis import add_minis
from .overrides import apply_overrides
from .replay import schedule_replays
from .synapses import SynapseFactory

REPLAY_MODULE = "synapse_replay"


@dataclass
class Connections:
    synapses: int = 0
    gap_junctions: int = 0
    minis: int = 0
    replayed_events: int = 0
    keep_alive: list = field(default_factory=list)  # handlers that must live through the run


def connect_all(settings, circuit, cells, h, pc, coreneuron: bool = False) -> Connections:
    set_mechanism_globals(h, settings.conditions.mechanisms, settings.config_file)
    result = Connections()
    cells_by_population = {}
    for cell in cells:
        cells_by_population.setdefault(cell.population, {})[cell.node_id] = cell
    factory = SynapseFactory(h, pc, settings.run, settings.conditions)
    for edge_settings in sorted(settings.circuit.edge_populations, key=lambda e: e.name):
        local = cells_by_population.get(edge_settings.target)
        if edge_settings.type != "chemical" or not local:
            continue
        edges = read_afferent_edges(edge_settings, sorted(local))
        source = circuit.populations[edge_settings.source]
        result.synapses += factory.connect(edges, local, source.offset)
    result.keep_alive.append(apply_overrides(settings.connection_overrides, circuit, cells, h))
    result.minis = add_minis(cells, settings.run.minis_seed)
    electrical = [e for e in settings.circuit.edge_populations if e.type == "electrical"]
    if electrical:
        bases = transfer_keys(electrical)
        for edge_settings in electrical:
            result.gap_junctions += connect_gap_junctions(
                edge_settings, bases[edge_settings.name], cells_by_population, h, pc)
        pc.setup_transfer()  # collective: every rank takes part
    replays = [i for i in settings.inputs if i.module == REPLAY_MODULE]
    if replays:
        replay = schedule_replays(replays, circuit, cells, h, settings.config_file.parent,
                                  coreneuron)
        result.replayed_events = replay.event_count
        result.keep_alive.append(replay)
    return result
