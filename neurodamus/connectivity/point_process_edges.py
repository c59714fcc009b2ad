"""Edge populations of the SONATA types `point_process` and `Exp2Syn_synapse`, as the
reference simulator's Allen point engine connects them (its ringtest_allen_v1 circuit):

- `point_process`: one NetCon per edge from the source gid straight into the target's
  artificial cell (cells/point.py), weight = `conductance`, the edge's `delay`; the
  afferent location attributes are not used. Only point neurons can be targets: the
  reference connects these edges into the target's `pointcell`, which a compartmental
  cell does not have, so edges onto one are refused with one error;
- `Exp2Syn_synapse`: NEURON's Exp2Syn at (afferent_section_id, afferent_section_pos or
  segment id/offset) with tau1, tau2, e = erev from the edge attributes, NetCon weight =
  `conductance` (uS, as it is), the edge's `delay`; no release randomness, no minis.
  `syn_type_id` is not needed; an edge counts as inhibitory when its erev is below
  Exp2SynModel.INHIBITORY_REVERSAL_BELOW.

Connection overrides apply as to every synapse (overrides.py): `weight` scales the NetCon
weight, `synapse_delay_override` replaces the delay. `modoverride` picks no other model:
the reference builds Exp2Syn_synapse edges only through its Exp2Syn helper (its other
helpers need parameters these edges do not carry), so `modoverride: Exp2Syn` is the model
these edges get anyway and any other modoverride reaching them is one error; on
point_process edges the reference ignores modoverride (a NetCon has no mechanism), and so
does this.
"""

import libsonata
import numpy as np

from ..cells.point import PointCell
from ..errors import CircuitError, ConfigError
from ..validation import check_afferent_edges, check_edge_values
from .delays import whole_steps
from .edges import read_afferent_edges
from .overrides import gid_array
from .synapse_models import MODELS, Exp2SynModel
from .synapses import INHIBITORY_BELOW, Synapse, SynapseFactory
from .templated_edges import DIRECT_NETCON

POINT_PROCESS = "point_process"
EXP2SYN_SYNAPSE = "Exp2Syn_synapse"
EXP2SYN = MODELS["Exp2Syn"]


def _always(attribute_names) -> bool:
    return True


class PointProcessEdges:
    """`point_process` edge populations: NetCons into the targets' artificial cells."""

    name = POINT_PROCESS
    delay_rule = staticmethod(whole_steps)
    gaba_rise_time = False  # a NetCon into an artificial cell
    matches = staticmethod(_always)

    @staticmethod
    def describe(settings, edge_settings, h) -> str:
        return f"{DIRECT_NETCON.name} (point_process: weight = conductance, edge delay)"

    def __init__(self, settings, circuit, h, pc):
        self.circuit, self.pc = circuit, pc
        self.dt, self.warnings = settings.run.dt, []

    def connect(self, edge_settings, cells_by_node_id: dict) -> int:
        name, file = edge_settings.name, edge_settings.edges_file
        try:
            population = libsonata.EdgeStorage(str(file)).open_population(name)
        except (libsonata.SonataError, RuntimeError) as error:
            raise CircuitError(f"cannot open edges: {error}", population=name,
                               file=file) from None
        selection = population.afferent_edges(
            np.asarray(sorted(cells_by_node_id), dtype=np.uint64).tolist())
        if selection.flat_size == 0:
            return 0
        for attribute in ("conductance", "delay"):
            if attribute not in population.attribute_names:
                raise CircuitError(f"edge attribute '{attribute}' missing (needed by "
                                   f"{POINT_PROCESS} edges)", population=name, file=file)
        edge_ids = np.asarray(selection.flatten(), np.int64).tolist()
        sources = np.asarray(population.source_nodes(selection), np.int64).tolist()
        targets = np.asarray(population.target_nodes(selection), np.int64).tolist()
        for edge_id, target in zip(edge_ids, targets):  # everything checked before building
            cell = cells_by_node_id[target]
            if not isinstance(cell, PointCell):
                raise CircuitError(
                    f"edge {edge_id}: {POINT_PROCESS} edges connect into the target's "
                    f"artificial cell, but node {target} of '{population.target}' is a "
                    "compartmental cell (give these edges the type chemical or "
                    f"{EXP2SYN_SYNAPSE})", population=name, file=file)
        weights = np.asarray(population.get_attribute("conductance", selection), float)
        delays = np.asarray(population.get_attribute("delay", selection), float)
        self.warnings += check_edge_values(file, name, edge_ids, {"conductance": weights,
                                                                  "delay": delays}, self.dt)
        weights, delays = weights.tolist(), self.delay_rule(delays, self.dt).tolist()
        offset = self.circuit.populations[population.source].offset
        for i, target in enumerate(targets):
            cell = cells_by_node_id[target]
            source_gid = offset + sources[i]
            netcon = self.pc.gid_connect(source_gid, cell.artificial)
            netcon.weight[0], netcon.delay = weights[i], delays[i]
            cell.synapses.append(Synapse(name, edge_ids[i], population.source, sources[i],
                                         source_gid, cell.artificial, netcon, weights[i],
                                         weights[i] < 0, model=DIRECT_NETCON))
        return len(targets)


class Exp2SynEdges:
    """`Exp2Syn_synapse` edge populations: Exp2Syn synapses from the edge attributes."""

    name = EXP2SYN_SYNAPSE
    delay_rule = staticmethod(whole_steps)
    gaba_rise_time = False  # Exp2Syn's tau1 is the edge's
    matches = staticmethod(_always)
    REQUIRED = ("conductance", "delay")

    @staticmethod
    def describe(settings, edge_settings, h) -> str:
        return (f"{EXP2SYN.name} ({EXP2SYN_SYNAPSE}: tau1, tau2, erev; weight = "
                "conductance)")

    def __init__(self, settings, circuit, h, pc):
        self.circuit = circuit
        self.factory = SynapseFactory(h, pc, settings.run, settings.conditions,
                                      reference_offsets=circuit.reference_offsets())
        self.dt, self.warnings = settings.run.dt, []
        # Overrides naming another model: (index, model name, source gids, target gids).
        self.foreign = [(index, override.modoverride, gid_array(circuit, override.source),
                         gid_array(circuit, override.target))
                        for index, override in enumerate(settings.connection_overrides)
                        if override.modoverride not in (None, EXP2SYN.name)]

    def connect(self, edge_settings, cells_by_node_id: dict) -> int:
        edges = read_afferent_edges(edge_settings, sorted(cells_by_node_id),
                                    EXP2SYN.edge_attributes, EXP2SYN.name,
                                    required=self.REQUIRED)
        if len(edges) == 0:
            return 0
        self.warnings += check_afferent_edges(edges, edge_settings.edges_file, cells_by_node_id,
                                              self.dt)
        edges.attributes["delay"] = self.delay_rule(edges.attributes["delay"], self.dt)
        source = self.circuit.populations[edges.source_population]
        target = self.circuit.populations[edges.target_population]
        for index, model, source_gids, target_gids in self.foreign:
            hit = np.flatnonzero(np.isin(edges.source_node_ids + source.offset, source_gids)
                                 & np.isin(edges.target_node_ids + target.offset, target_gids))
            if hit.size:
                raise ConfigError(
                    f"modoverride '{model}' reaches edge population '{edges.population}' "
                    f"(edge {int(edges.edge_ids[hit[0]])}) of type {EXP2SYN_SYNAPSE}, whose "
                    f"edges carry only {EXP2SYN.name}'s parameters (conductance, "
                    f"{', '.join(EXP2SYN.edge_attributes)})",
                    key=f"connection_overrides[{index}].modoverride")
        # The factory tells inhibitory edges by syn_type_id: here, as Exp2Syn tells them.
        erev = np.asarray(edges.attributes["erev"], float)
        edges.attributes["syn_type_id"] = np.where(
            erev < Exp2SynModel.INHIBITORY_REVERSAL_BELOW, 0, INHIBITORY_BELOW)
        return self.factory.connect(edges, cells_by_node_id, source.offset, EXP2SYN)
