"""Chemical edges in the Allen/bmtk convention: each edge names its model (`model_template`)
and carries `syn_weight`, `delay`, its edge type's JSON as `dynamics_params/<key>`,
optionally `weight_function`, `nsyns`, and either a location (`afferent_section_id`,
`afferent_section_pos`) or a placement rule (`target_sections`, `distance_range`).
Recognised by the edge attributes: `syn_weight` without `conductance`.

What bmtk (BioNet) does, reproduced here:
- weight w = the edge's weight function of syn_weight (weight_functions.py); syn_weight
  itself when the population has no `weight_function`;
- bmtk calls an edge population "preselected" when it has `afferent_section_id`, or has
  no `nsyns`; it then makes one synapse (or NetCon) per edge and ignores nsyns;
- onto a point neuron: one NetCon per edge from the source gid into the artificial cell,
  weight w x dynamics_params/sign x nsyns, or just w when preselected (bmtk then ignores
  the sign: inhibition must be in syn_weight; a warning says when it is not), the edge's
  delay;
- onto a compartmental cell: the synapse model of model_template (Exp2Syn: tau1, tau2,
  e = erev) with NetCon weight w (uS) and the edge's delay, at (afferent_section_id,
  afferent_section_pos) when preselected, else nsyns synapses each of weight w, each at
  the centre of a segment drawn with probability proportional to its length inside
  `distance_range` (path distance from soma(0), um) among the `target_sections`
  (soma/somatic, axon/axonal, dend/basal, apic/apical, matched on the section's name),
  drawn exactly as bmtk draws them (NumPy's legacy generator seeded by bmtk's gid, in
  bmtk's order of edges: dialects/bmtk_placement.py), on any rank count;
- edges from virtual sources are made the same way; replayed spikes reach them through
  their NetCons (replay.py), as bmtk's VecStims do.
Each synapse or NetCon is a Synapse record on the target cell, in edge order.
"""

import logging

import libsonata
import numpy as np

from ..cells.point import PointCell
from ..dialects.bmtk_placement import (
    PlacementEdges,
    PlacementPlan,
    bmtk_gid_offsets,
    connection_order,
    distance_range_rule,
    segment_table,
    target_sections_rule,
)
from ..errors import CircuitError
from ..validation import check_edge_values, check_section_ids
from .bmtk_synapses import BMTK_TEMPLATES
from .delays import as_written
from .synapse_models import MODELS, Exp2SynModel, SynapseKey, SynapseModel
from .synapses import EdgeRow, Synapse
from .weight_functions import weight_function

log = logging.getLogger("neurodamus")

SYNAPSE_TEMPLATES = BMTK_TEMPLATES  # edge model_template -> registered synapse model


class DirectNetCon(SynapseModel):
    """bmtk's edges onto point neurons: a NetCon straight into the artificial cell (no
    mechanism of its own, no minis)."""

    name = "NetCon onto point neuron"


DIRECT_NETCON = DirectNetCon()


def matches(attribute_names) -> bool:
    return "syn_weight" in attribute_names and "conductance" not in attribute_names


def describe(settings, edge_settings, h) -> str:
    """The model named in the log and run summary for this edge population."""
    from ..cells.point import POINT_MODEL_TYPES

    types = {p.name: p.type for p in settings.circuit.node_populations}
    if types.get(edge_settings.target) in POINT_MODEL_TYPES:
        return f"{DIRECT_NETCON.name} (bmtk: syn_weight, sign, nsyns)"
    names = ", ".join(_model_names(edge_settings)) or "Exp2Syn"
    return f"{names} (bmtk: model_template, syn_weight, dynamics_params)"


def _model_names(edge_settings) -> list[str]:
    """The synapse models the population's model_templates name (none when unreadable)."""
    try:
        population = libsonata.EdgeStorage(str(edge_settings.edges_file)).open_population(
            edge_settings.name)
        templates = population.get_attribute("model_template", population.select_all())
    except (libsonata.SonataError, RuntimeError):
        return []
    return sorted({SYNAPSE_TEMPLATES.get(str(t), str(t)) for t in set(templates)})


class _Reader:
    """Bulk reads of the afferent edges of the local cells of one edge population."""

    def __init__(self, edge_settings, local_target_node_ids):
        self.name, self.file = edge_settings.name, edge_settings.edges_file
        try:
            storage = libsonata.EdgeStorage(str(self.file))
            self.population = storage.open_population(self.name)
        except (libsonata.SonataError, RuntimeError) as error:
            raise CircuitError(f"cannot open edges: {error}", population=self.name,
                               file=self.file) from None
        self.selection = self.population.afferent_edges(
            np.asarray(local_target_node_ids, dtype=np.uint64).tolist())
        self.names = frozenset(self.population.attribute_names)
        self.dynamics_names = frozenset(self.population.dynamics_attribute_names)

    def error(self, message: str) -> CircuitError:
        return CircuitError(message, population=self.name, file=self.file)

    def attribute(self, name: str, needed_by: str = ""):
        if name not in self.names:
            why = f" (needed by {needed_by})" if needed_by else ""
            raise self.error(f"edge attribute '{name}' missing{why}")
        return np.asarray(self.population.get_attribute(name, self.selection))

    def dynamics(self, name: str, needed_by: str):
        if name not in self.dynamics_names:
            raise self.error(f"edge attribute 'dynamics_params/{name}' missing (needed by "
                             f"{needed_by})")
        return np.asarray(self.population.get_dynamics_attribute(name, self.selection), float)


class TemplatedEdgeConvention:
    """Connects bmtk-convention edge populations (see the module docstring)."""

    name = "bmtk"
    delay_rule = staticmethod(as_written)  # bmtk's NetCon delay is the edge's (delays.py)
    gaba_rise_time = False  # bmtk's templates have no randomized GABA_A rise time
    matches = staticmethod(matches)
    describe = staticmethod(describe)

    def __init__(self, settings, circuit, h, pc):
        self.settings, self.circuit, self.h, self.pc = settings, circuit, h, pc
        self.reference_offsets = circuit.reference_offsets()
        self._segments: dict = {}  # gid -> segment table (random placement)
        self._plans: dict = {}  # target population -> PlacementPlan of its local cells
        self.warnings = []  # validation.BadValues (delays below dt)
        self.keep_alive: list = []  # silent sources of virtual NetCons (see _netcon)

    def connect(self, edge_settings, cells_by_node_id: dict) -> int:
        reader = _Reader(edge_settings, sorted(cells_by_node_id))
        if reader.selection.flat_size == 0:
            return 0
        edges = self._read(reader)
        self.warnings += check_edge_values(reader.file, reader.name, edges["ids"], {
            "delay": edges["delay"], "syn_weight": edges["weight"]}, self.settings.run.dt)
        point = np.array([isinstance(cells_by_node_id[n], PointCell)
                          for n in edges["targets"].tolist()], bool)
        plans = []
        if point.any():
            plans.append(self._point_plan(reader, edges, point))
        if (~point).any():
            plans += self._compartment_plans(reader, edges, ~point, cells_by_node_id)
        count = 0
        for build, args in plans:  # everything read and checked: now build
            count += build(edges, cells_by_node_id, *args)
        return count

    # -- reading ---------------------------------------------------------------------------

    def _read(self, reader) -> dict:
        population = reader.population
        edges = {
            "name": reader.name,
            "ids": np.asarray(reader.selection.flatten(), np.int64),
            "sources": np.asarray(population.source_nodes(reader.selection), np.int64),
            "targets": np.asarray(population.target_nodes(reader.selection), np.int64),
            "delay": self.delay_rule(reader.attribute("delay"), self.settings.run.dt),
            "source_population": population.source,
            "target_population": population.target,
        }
        edges["weight"] = self._weights(reader, edges)
        edges["nsyns"] = None
        if "nsyns" in reader.names:
            nsyns = reader.attribute("nsyns").astype(np.int64)
            negative = np.flatnonzero(nsyns < 0)
            if negative.size:
                i = negative[0]
                raise reader.error(f"edge {int(edges['ids'][i])}: nsyns is {int(nsyns[i])}, "
                                   "it must not be negative")
            edges["nsyns"] = nsyns
        # bmtk's "preselected targets": one synapse or NetCon per edge, nsyns unused.
        edges["preselected"] = "afferent_section_id" in reader.names or edges["nsyns"] is None
        return edges

    def _weights(self, reader, edges) -> np.ndarray:
        syn_weight = reader.attribute("syn_weight").astype(float)
        if "weight_function" not in reader.names:
            return syn_weight
        names = np.asarray([str(n) for n in reader.attribute("weight_function")], dtype=object)
        weights = np.empty(syn_weight.size)
        for name in sorted(set(names.tolist())):
            function = weight_function(name, reader.name, reader.file)
            mask = names == name
            columns = {a: reader.attribute(a, f"weight_function '{name}'")[mask]
                       for a in function.edge_attributes}
            ends = [self._node_columns(edges[key][mask], edges[f"{end}_population"],
                                       function, name, reader.name)
                    for key, end in (("sources", "source"), ("targets", "target"))]
            weights[mask] = function.compute(syn_weight[mask], columns, *ends)
        return weights

    def _node_columns(self, node_ids, population_name, function, name, edge_population):
        """Node attributes a weight function needs, per edge (plain, else dynamics_params)."""
        population = self.circuit.populations[population_name]
        storage = population.storage
        unique, inverse = np.unique(node_ids, return_inverse=True)
        out = {}
        for attribute in function.node_attributes:
            if attribute in storage.attribute_names:
                values = population.attributes(unique, [attribute])[attribute]
            elif attribute in storage.dynamics_attribute_names:
                values = population.dynamics(unique, [attribute], {})[attribute]
            else:
                raise CircuitError(f"weight_function '{name}' of edge population "
                                   f"'{edge_population}' needs node attribute '{attribute}'",
                                   population=population_name,
                                   file=population.settings.nodes_file)
            out[attribute] = np.asarray(values, float)[inverse.ravel()]
        return out

    # -- onto point neurons ----------------------------------------------------------------

    def _point_plan(self, reader, edges, mask):
        weights = edges["weight"][mask]
        if edges["preselected"]:
            if "sign" in reader.dynamics_names:
                sign = reader.dynamics("sign", "")[mask]
                ignored = int(np.count_nonzero((sign < 0) & (weights > 0)))
                if ignored:
                    log.warning("edge population '%s': %d edges onto point neurons have "
                                "dynamics_params/sign -1 and a positive weight; without nsyns "
                                "(or with afferent_section_id) bmtk ignores the sign, and so "
                                "does this run: they excite", reader.name, ignored)
        else:
            sign = reader.dynamics("sign", "edges onto point neurons with nsyns: bmtk's weight "
                                           "is syn_weight x sign x nsyns")[mask]
            weights = weights * sign * edges["nsyns"][mask]
        return self._build_point, (np.flatnonzero(mask), weights)

    def _build_point(self, edges, cells_by_node_id, indices, weights) -> int:
        offset = self.circuit.populations[edges["source_population"]].offset
        ids, sources, targets = (edges[k][indices].tolist() for k in ("ids", "sources", "targets"))
        delays, weights = edges["delay"][indices].tolist(), weights.tolist()
        name = edges["name"]
        for i in range(len(indices)):
            cell = cells_by_node_id[targets[i]]
            source_gid = offset + sources[i]
            netcon = self._netcon(edges["source_population"], source_gid, cell.artificial,
                                  delays[i])
            netcon.weight[0], netcon.delay = weights[i], delays[i]
            cell.synapses.append(Synapse(name, ids[i], edges["source_population"], sources[i],
                                         source_gid, cell.artificial, netcon, weights[i],
                                         weights[i] < 0, model=DIRECT_NETCON))
        return len(indices)

    # -- onto compartmental cells ----------------------------------------------------------

    def _compartment_plans(self, reader, edges, mask, cells_by_node_id) -> list:
        """One plan per synapse model the edges' model_templates name (bmtk's edge types
        may give one population several)."""
        indices = np.flatnonzero(mask)
        templates = np.asarray([str(t) for t in reader.attribute(
            "model_template", "edges onto compartmental cells")[indices]], dtype=object)
        by_model: dict[str, list] = {}
        for template in sorted(set(templates.tolist())):
            if template not in SYNAPSE_TEMPLATES:
                known = ", ".join(sorted(SYNAPSE_TEMPLATES))
                raise reader.error(f"model_template '{template}' of edges onto compartmental "
                                   f"cells names no synapse model (known: {known})")
            by_model.setdefault(SYNAPSE_TEMPLATES[template], []).append(
                indices[templates == template])
        return [self._compartment_plan(reader, edges, np.sort(np.concatenate(parts)),
                                       MODELS[name], cells_by_node_id)
                for name, parts in sorted(by_model.items())]

    def _compartment_plan(self, reader, edges, indices, model, cells_by_node_id):
        if not model.available(self.h):
            raise reader.error(f"model_template of model {model.name} needs the mechanism "
                               f"{model.mechanisms[0]}, which is not loaded (bmtk's "
                               "components mechanisms_dir compiles it)")
        columns = {p: reader.dynamics(p, f"model_template {model.name}")[indices].tolist()
                   for p in model.edge_attributes}
        check_edge_values(reader.file, reader.name, edges["ids"][indices],
                          {f"dynamics_params/{p}": columns[p] for p in model.edge_attributes},
                          self.settings.run.dt)
        # every model of SYNAPSE_TEMPLATES reads erev
        inhibitory = (np.asarray(columns["erev"])
                      < Exp2SynModel.INHIBITORY_REVERSAL_BELOW).tolist()
        if edges["preselected"]:
            if "afferent_section_id" not in reader.names:
                raise reader.error("edges onto compartmental cells need afferent_section_id "
                                   "and afferent_section_pos, or nsyns with target_sections "
                                   "and distance_range")
            sites = (reader.attribute("afferent_section_id").astype(np.int64)[indices].tolist(),
                     reader.attribute("afferent_section_pos", "afferent_section_id")
                     .astype(float)[indices].tolist())
            check_section_ids(reader.file, reader.name, edges["ids"][indices],
                              edges["targets"][indices], sites[0], cells_by_node_id)
            rules = None
        else:
            sites = None
            rules = self._placement_plan(edges["target_population"], cells_by_node_id)
        return self._build_compartmental, (indices, model, columns, inhibitory, sites, rules)

    def _placement_plan(self, target: str, cells_by_node_id: dict) -> PlacementPlan:
        """Every run-time placement onto the local cells of `target`, drawn at once in
        bmtk's order of edge populations (see bmtk_placement)."""
        plan = self._plans.get(target)
        if plan is not None:
            return plan
        by_name = {e.name: e for e in self.settings.circuit.edge_populations}
        ordered = []
        for name in connection_order(self.settings.circuit, self.settings.inputs):
            edge_settings = by_name[name]
            if edge_settings.target != target or edge_settings.type != "chemical":
                continue
            reader = _Reader(edge_settings, sorted(cells_by_node_id))
            placed = (reader.selection.flat_size and matches(reader.names)
                      and "afferent_section_id" not in reader.names and "nsyns" in reader.names)
            if placed:
                ordered.append(_placement_edges(reader, cells_by_node_id))
        sizes = {name: p.size for name, p in self.circuit.populations.items()}
        offset = bmtk_gid_offsets(self.settings.circuit, sizes).get(target, 0)
        plan = self._plans[target] = PlacementPlan(
            ordered, cells_by_node_id, offset, lambda cell: self._segment_table(self.h, cell))
        return plan

    def _build_compartmental(self, edges, cells_by_node_id, indices, model, columns,
                             inhibitory, sites, rules) -> int:
        h = self.h
        run, conditions = self.settings.run, self.settings.conditions
        offset = self.circuit.populations[edges["source_population"]].offset
        reference_offset = self.reference_offsets.get(edges["target_population"], 0)
        ids, sources, targets = (edges[k][indices].tolist() for k in ("ids", "sources", "targets"))
        delays, weights = edges["delay"][indices].tolist(), edges["weight"][indices].tolist()
        name = edges["name"]
        population_index: dict[int, int] = {}
        unplaced, count = 0, 0
        for i in range(len(indices)):
            cell = cells_by_node_id[targets[i]]
            if sites is not None:
                section_id = sites[0][i]
                placements = [(cell.section(section_id), section_id, sites[1][i])]
            else:  # drawn by the placement plan (`rules`) for edges that give nsyns
                placements = self._placed(cell, rules.of(name, ids[i]))
                unplaced += placements is None
                placements = placements or []
            source_gid = offset + sources[i]
            row = EdgeRow(columns, i)
            for section, section_id, x in placements:
                index_here = population_index.get(targets[i], 0)
                population_index[targets[i]] = index_here + 1
                key = SynapseKey(gid=cell.gid, index=len(cell.synapses),
                                 reference_gid=reference_offset + targets[i] + 1,
                                 population_index=index_here,
                                 source_population=edges["source_population"],
                                 target_population=edges["target_population"])
                synapse = model.create(h, section(x), inhibitory[i], row, key, run, conditions)
                netcon = self._netcon(edges["source_population"], source_gid, synapse,
                                      delays[i])
                netcon.weight[0], netcon.delay = weights[i], delays[i]
                cell.synapses.append(Synapse(name, ids[i], edges["source_population"],
                                             sources[i], source_gid, synapse, netcon,
                                             weights[i], inhibitory[i], model=model,
                                             section_id=section_id, location=x, key=key))
                count += 1
        if unplaced:
            log.warning("edge population '%s': %d edges found no segment in their "
                        "target_sections and distance_range (no synapse made, as bmtk)",
                        name, unplaced)
        return count

    def _netcon(self, source_population: str, source_gid: int, target, delay: float):
        """A NetCon from the source gid; from a virtual source with a delay below dt (bmtk's
        VecStim NetCons are local, so some examples give 0 ms), one from a silent NetStim
        of its own instead, which does not bound the spike exchange interval and which a
        checkpoint saves. Replayed events reach both alike (replay.py)."""
        if delay < self.settings.run.dt and \
                self.circuit.populations[source_population].is_virtual:
            silent = self.h.NetStim()
            silent.number = 0
            self.keep_alive.append(silent)
            return self.h.NetCon(silent, target)
        return self.pc.gid_connect(source_gid, target)

    def _placed(self, cell, segments):
        """(section, section id, x) of each drawn segment; None: no segment qualified."""
        if segments is None:
            return None
        table = self._segment_table(self.h, cell)
        return [(cell.sections[int(table.section[k])],
                 _section_id(cell, int(table.section[k])), float(table.x[k]))
                for k in segments.tolist()]

    def _segment_table(self, h, cell):
        table = self._segments.get(cell.gid)
        if table is None:
            table = self._segments[cell.gid] = segment_table(h, cell)
        return table


def _placement_edges(reader, cells_by_node_id) -> PlacementEdges:
    """The placement rules of one population's edges onto local compartmental cells."""
    population = reader.population
    ids = np.asarray(reader.selection.flatten(), np.int64)
    targets = np.asarray(population.target_nodes(reader.selection), np.int64)
    keep = np.array([not isinstance(cells_by_node_id[t], PointCell) for t in targets.tolist()],
                    bool)
    sections = reader.attribute("target_sections", "nsyns placement")[keep]
    ranges = reader.attribute("distance_range", "nsyns placement")[keep]
    try:
        parsed_sections = {s: target_sections_rule(s) for s in {str(v) for v in sections}}
        parsed_ranges = {r: distance_range_rule(r) for r in {str(v) for v in ranges}}
    except ValueError as error:
        raise reader.error(str(error)) from None
    rules = [(parsed_sections[str(s)], parsed_ranges[str(r)]) for s, r in zip(sections, ranges)]
    return PlacementEdges(reader.name, ids[keep], targets[keep],
                          reader.attribute("nsyns").astype(np.int64)[keep], rules)


def _section_id(cell, section_index: int) -> int:
    """The SONATA section id of `cell.sections[section_index]` (-1 if the cell cannot say)."""
    section_map = getattr(cell, "section_map", None)
    if section_map is None:
        return -1
    first_id = first_present = 0
    for counted, present in zip(section_map.counted, section_map.present):
        if section_index < first_present + present:
            return first_id + section_index - first_present
        first_id += counted
        first_present += present
    return -1
