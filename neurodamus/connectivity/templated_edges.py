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
  (soma/somatic, axon/axonal, dend/basal, apic/apical, matched on the section's name).
  bmtk draws from NumPy seeded by the target gid, in creation order; here the draws come
  from a Random123 stream keyed (synapse_seed, target gid and edge population, edge id),
  so placements do not depend on the rank count or on the order edges are read;
- edges from virtual sources are made the same way; replayed spikes reach them through
  their NetCons (replay.py), as bmtk's VecStims do.
Each synapse or NetCon is a Synapse record on the target cell, in edge order.
"""

import ast
import json
import logging
import math
from typing import cast

import libsonata
import numpy as np

from ..cells.point import PointCell
from ..errors import CircuitError
from ..random.keys import Purpose, stream_ids
from ..random.reference import reference_population_id
from ..validation import check_edge_values, check_section_ids
from .delays import as_written
from .replay import REPLAY_COPY_MARK
from .synapse_models import MODELS, Exp2SynModel, SynapseKey, SynapseModel
from .synapses import EdgeRow, Synapse
from .weight_functions import weight_function

log = logging.getLogger("neurodamus")

# Edge model_template -> registered synapse model (bmtk registers both spellings).
SYNAPSE_TEMPLATES = {"Exp2Syn": "Exp2Syn", "exp2syn": "Exp2Syn"}
# target_sections labels -> the first four letters of the section names they match.
SECTION_LABELS = {"soma": "soma", "somatic": "soma", "axon": "axon", "axonal": "axon",
                  "dend": "dend", "basal": "dend", "apic": "apic", "apical": "apic"}


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
    return "Exp2Syn (bmtk: model_template, syn_weight, dynamics_params)"


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
        self._segments = {}  # gid -> segment table (random placement)
        self._candidates = {}  # (gid, labels, range) -> (segment indices, cumulative p)
        self.warnings = []  # validation.BadValues (delays below dt)

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
            plans.append(self._compartment_plan(reader, edges, ~point, cells_by_node_id))
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
        pc = self.pc
        offset = self.circuit.populations[edges["source_population"]].offset
        ids, sources, targets = (edges[k][indices].tolist() for k in ("ids", "sources", "targets"))
        delays, weights = edges["delay"][indices].tolist(), weights.tolist()
        name = edges["name"]
        for i in range(len(indices)):
            cell = cells_by_node_id[targets[i]]
            source_gid = offset + sources[i]
            netcon = pc.gid_connect(source_gid, cell.artificial)
            netcon.weight[0], netcon.delay = weights[i], delays[i]
            cell.synapses.append(Synapse(name, ids[i], edges["source_population"], sources[i],
                                         source_gid, cell.artificial, netcon, weights[i],
                                         weights[i] < 0, model=DIRECT_NETCON))
        return len(indices)

    # -- onto compartmental cells ----------------------------------------------------------

    def _compartment_plan(self, reader, edges, mask, cells_by_node_id):
        indices = np.flatnonzero(mask)
        templates = reader.attribute("model_template",
                                     "edges onto compartmental cells")[indices]
        model_names = []
        for template in sorted({str(t) for t in templates}):
            if template not in SYNAPSE_TEMPLATES:
                known = ", ".join(sorted(SYNAPSE_TEMPLATES))
                raise reader.error(f"model_template '{template}' of edges onto compartmental "
                                   f"cells names no synapse model (known: {known})")
            model_names.append(SYNAPSE_TEMPLATES[template])
        if len(set(model_names)) > 1:  # one model per population, as bmtk's edge types give
            raise reader.error(f"edges mix synapse models {', '.join(sorted(set(model_names)))}")
        model = MODELS[model_names[0]]
        columns = {p: reader.dynamics(p, f"model_template {model.name}")[indices].tolist()
                   for p in model.edge_attributes}
        check_edge_values(reader.file, reader.name, edges["ids"][indices],
                          {f"dynamics_params/{p}": columns[p] for p in model.edge_attributes},
                          self.settings.run.dt)
        # SYNAPSE_TEMPLATES names only Exp2Syn: the model is an Exp2SynModel.
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
            sections = reader.attribute("target_sections", "nsyns placement")[indices]
            ranges = reader.attribute("distance_range", "nsyns placement")[indices]
            parsed_sections = {s: _target_sections(s, reader) for s in {str(v) for v in sections}}
            parsed_ranges = {r: _distance_range(r, reader) for r in {str(v) for v in ranges}}
            rules = [(parsed_sections[str(s)], parsed_ranges[str(r)])
                     for s, r in zip(sections, ranges)]
        return self._build_compartmental, (indices, model, columns, inhibitory, sites, rules)

    def _build_compartmental(self, edges, cells_by_node_id, indices, model, columns,
                             inhibitory, sites, rules) -> int:
        h, pc = self.h, self.pc
        run, conditions = self.settings.run, self.settings.conditions
        offset = self.circuit.populations[edges["source_population"]].offset
        reference_offset = self.reference_offsets.get(edges["target_population"], 0)
        ids, sources, targets = (edges[k][indices].tolist() for k in ("ids", "sources", "targets"))
        delays, weights = edges["delay"][indices].tolist(), edges["weight"][indices].tolist()
        nsyns = None if edges["nsyns"] is None else edges["nsyns"][indices].tolist()
        name = edges["name"]
        # the edge population in the stream key (replayed copies draw as their originals)
        placement_key = reference_population_id(name.split(REPLAY_COPY_MARK)[0])
        population_index: dict[int, int] = {}
        unplaced, count = 0, 0
        for i in range(len(indices)):
            cell = cells_by_node_id[targets[i]]
            if sites is not None:
                section_id = sites[0][i]
                placements = [(cell.section(section_id), section_id, sites[1][i])]
            else:
                # drawn only for edges that are not preselected, which give nsyns
                placements = self._draw(h, cell, placement_key, ids[i], cast(list, nsyns)[i],
                                        *rules[i])
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
                netcon = pc.gid_connect(source_gid, synapse)
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

    def _draw(self, h, cell, population_key: int, edge_id: int, count: int, labels: tuple,
              bounds: tuple):
        """`count` (section, section id, x) drawn for one edge; None: no segment qualifies.
        The stream is keyed by the target gid and the edge population's 12-bit id together
        (gid * 4096 + id, modulo 2**32) and by the edge id."""
        indices, cumulative = self._candidate_segments(h, cell, labels, bounds)
        if indices.size == 0:
            return None
        if count == 0:
            return []
        stream = h.Random()
        keyed_gid = (cell.gid * 4096 + population_key) % (1 << 32)
        stream.Random123(*stream_ids(Purpose.SYNAPSE_PLACEMENT, self.settings.run.synapse_seed,
                                     keyed_gid, edge_id))
        stream.uniform(0, 1)
        draws = np.array([stream.repick() for _ in range(count)])
        chosen = np.minimum(np.searchsorted(cumulative, draws, side="right"), indices.size - 1)
        table = self._segment_table(h, cell)
        out = []
        for segment in indices[chosen].tolist():
            section_index = int(table["section"][segment])
            out.append((cell.sections[section_index], _section_id(cell, section_index),
                        float(table["x"][segment])))
        return out

    def _segment_table(self, h, cell) -> dict:
        table = self._segments.get(cell.gid)
        if table is None:
            origin = cell.soma(0)
            section_of: list[int] = []
            xs: list[float] = []
            kinds: list[str] = []
            segment_lengths: list[float] = []
            segment_distances: list[float] = []
            for index, section in enumerate(cell.sections):
                kind = section.name().rsplit(".", 1)[-1][:4]
                length = section.L / section.nseg
                for segment in section:
                    section_of.append(index)
                    xs.append(segment.x)
                    kinds.append(kind)
                    segment_lengths.append(length)
                    segment_distances.append(h.distance(origin, segment))
            lengths, distances = np.asarray(segment_lengths), np.asarray(segment_distances)
            table = {"section": np.asarray(section_of, np.int64), "x": np.asarray(xs),
                     "kind": np.asarray(kinds), "length": lengths,
                     "d0": distances - lengths / 2, "d1": distances + lengths / 2}
            self._segments[cell.gid] = table
        return table

    def _candidate_segments(self, h, cell, labels, bounds):
        key = (cell.gid, labels, bounds)
        found = self._candidates.get(key)
        if found is None:
            table = self._segment_table(h, cell)
            low, high = bounds
            overlap = np.maximum(0.0, np.minimum(table["d1"], high)
                                 - np.maximum(table["d0"], low)) / table["length"]
            wanted = {SECTION_LABELS[label] for label in labels}
            indices = np.flatnonzero((overlap > 0) & np.isin(table["kind"], sorted(wanted)))
            weights = table["length"][indices] * overlap[indices]
            cumulative = np.cumsum(weights)
            if indices.size:
                cumulative /= cumulative[-1]
            found = self._candidates[key] = (indices, cumulative)
        return found


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


def _target_sections(text: str, reader) -> tuple[str, ...]:
    """bmtk's target_sections: a Python list literal of labels ("['basal', 'apical']")."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text.strip()
    labels = (value,) if isinstance(value, str) else value
    if not isinstance(labels, (list, tuple)) or not labels or \
            not all(isinstance(label, str) and label in SECTION_LABELS for label in labels):
        raise reader.error(f"target_sections {text!r} is not a list of section labels "
                           f"(known: {', '.join(SECTION_LABELS)})")
    return tuple(labels)


def _distance_range(text: str, reader) -> tuple[float, float]:
    """bmtk's distance_range: a JSON pair [min, max] (um), or one number (max; min 0)."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [0.0, value]
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and not any(math.isnan(v) for v in value)):
        raise reader.error(f"distance_range {text!r} is not [min, max] in um")
    return float(value[0]), float(value[1])
