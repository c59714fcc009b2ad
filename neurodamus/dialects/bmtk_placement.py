"""bmtk's run-time synapse placement, draw for draw: edges that give `nsyns`,
`target_sections` and `distance_range` (and no `afferent_section_id`) are placed while the
network is built, so equal spikes need bmtk's generator, seeds and order of draws.

The facts (bmtk 1.2, BioNet), reproduced here:
- each compartmental cell owns one legacy NumPy generator, `RandomState(gid)`, seeded once
  before the first edge is connected, where bmtk's gid is the node id plus the sizes of the
  node populations before it in circuit-config order (virtual ones included; several
  populations of one file in name order);
- edges are connected population by population: first those from non-virtual sources in
  circuit-config order, then, per spike input in config order, those from the population
  it names, then replay inputs' edges; within a population a cell's afferent edges in edge
  order;
- an edge draws `choice(candidates, nsyns, p)`: nsyns uniform doubles of the cell's stream,
  each the first candidate whose cumulative probability (normalised by its last value)
  exceeds it; an edge with no candidate draws nothing (bmtk warns and makes no synapse);
- candidates: the cell's segments in the order of its `all` list whose [d - L/2, d + L/2]
  (d: path distance of the segment centre from soma(0), L: section length / nseg) overlaps
  distance_range and whose section kind is among target_sections; p proportional to
  L x the overlapping fraction.

`target_sections_rule` and `distance_range_rule` read the two rules as the edge files write
them. `PlacementPlan` draws every placement of one target population's local cells at once, in
that order, so the connector may read edge populations in any order and on any rank count.
"""

import ast
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..connectivity.replay import REPLAY_COPY_MARK, SPONT_COPY_SUFFIX
from ..random.bmtk import placement_stream

# target_sections labels -> the first four letters of the section names they match.
SECTION_LABELS = {"soma": "soma", "somatic": "soma", "axon": "axon", "axonal": "axon",
                  "dend": "dend", "basal": "dend", "apic": "apic", "apical": "apic"}


@dataclass(frozen=True)
class SegmentTable:
    """A cell's segments in `all` order: section index, x, kind, length, path distance."""
    section: np.ndarray
    x: np.ndarray
    kind: np.ndarray
    length: np.ndarray
    distance: np.ndarray

    def candidates(self, labels: Sequence[str], bounds: tuple[float, float]):
        """(segment indices, probabilities) as bmtk computes them for one rule."""
        low, high = bounds
        d0, d1 = self.distance - self.length / 2.0, self.distance + self.length / 2.0
        overlap = np.maximum(0, np.minimum(d1, high) - np.maximum(d0, low)) / self.length
        wanted = sorted({SECTION_LABELS[label] for label in labels})
        indices = np.flatnonzero((overlap > 0) & np.isin(self.kind, wanted))
        weighted = self.length[indices] * overlap[indices]
        return indices, weighted / np.sum(weighted) if indices.size else weighted


def segment_table(h, cell) -> SegmentTable:
    """The segment table of a cell whose `sections` are its `all` list in order."""
    origin = cell.soma(0)
    section_of, xs, kinds, lengths, distances = [], [], [], [], []
    for index, section in enumerate(cell.sections):
        kind = section.name().rsplit(".", 1)[-1][:4]
        length = section.L / section.nseg
        for segment in section:
            section_of.append(index)
            xs.append(segment.x)
            kinds.append(kind)
            lengths.append(length)
            distances.append(h.distance(origin, segment))
    return SegmentTable(np.asarray(section_of, np.int64), np.asarray(xs), np.asarray(kinds),
                        np.asarray(lengths), np.asarray(distances))


def bmtk_gid_offsets(circuit_settings, sizes: dict[str, int]) -> dict[str, int]:
    """bmtk's gid offset of each node population (replayed copies have none in bmtk)."""
    out, offset = {}, 0
    for population in circuit_settings.node_populations:
        if REPLAY_COPY_MARK in population.name:
            continue
        out[population.name] = offset
        offset += sizes[population.name]
    return out


def connection_order(circuit_settings, inputs) -> list[str]:
    """Edge population names in the order bmtk connects them (see the module docstring)."""
    from ..config.circuit import edge_config_order

    virtual = {p.name for p in circuit_settings.node_populations if p.type == "virtual"}
    by_name = {e.name: e for e in circuit_settings.edge_populations}
    written = [n for n in edge_config_order(Path(circuit_settings.config_file)) if n in by_name]
    written += sorted(set(by_name) - set(written))
    replayed = [n for n in written if REPLAY_COPY_MARK in n and not n.endswith(SPONT_COPY_SUFFIX)]
    written = [n for n in written if n not in replayed]
    # syn_activity's copies stand for recurrent edges: bmtk connects them in their place
    order = [n for n in written if by_name[n].source not in virtual
             or n.endswith(SPONT_COPY_SUFFIX)]
    for entry in inputs:
        source = entry.parameters.get("source") if entry.module == "synapse_replay" else None
        order += [n for n in written if by_name[n].source == source and n not in order]
    order += [n for n in written if n not in order]
    return order + replayed


@dataclass(frozen=True)
class PlacementEdges:
    """The placement edges of one edge population onto the local cells, in edge order."""
    population: str
    ids: np.ndarray
    targets: np.ndarray  # node ids
    nsyns: np.ndarray
    rules: list  # per edge: (labels, (min, max))


class PlacementPlan:
    """The segment (index into the cell's SegmentTable) of every synapse drawn for one
    target population's local cells; None for an edge with no candidate segment."""

    def __init__(self, edges_in_order: Sequence[PlacementEdges], cells_by_node_id: dict,
                 gid_offset: int, table_of: Callable):
        self.segments: dict[tuple[str, int], np.ndarray | None] = {}
        streams: dict[int, np.random.RandomState] = {}
        cache: dict = {}
        for edges in edges_in_order:
            for i, (edge_id, target) in enumerate(zip(edges.ids.tolist(),
                                                      edges.targets.tolist())):
                cell = cells_by_node_id[target]
                labels, bounds = edges.rules[i]
                key = (target, tuple(labels), bounds)
                if key not in cache:
                    cache[key] = table_of(cell).candidates(labels, bounds)
                indices, p = cache[key]
                if indices.size == 0:
                    self.segments[(edges.population, edge_id)] = None
                    continue
                stream = streams.get(target)
                if stream is None:
                    stream = streams[target] = placement_stream(gid_offset + target)
                self.segments[(edges.population, edge_id)] = stream.choice(
                    indices, int(edges.nsyns[i]), p=p)

    def of(self, population: str, edge_id: int) -> np.ndarray | None:
        return self.segments[(population, edge_id)]


# -- the rules as the edge files write them --------------------------------------------

def target_sections_rule(text: str) -> tuple[str, ...]:
    """bmtk's target_sections: a Python list literal of labels ("['basal', 'apical']");
    ValueError says what is wrong."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text.strip()
    labels = (value,) if isinstance(value, str) else value
    if not isinstance(labels, (list, tuple)) or not labels or \
            not all(isinstance(label, str) and label in SECTION_LABELS for label in labels):
        raise ValueError(f"target_sections {text!r} is not a list of section labels "
                         f"(known: {', '.join(SECTION_LABELS)})")
    return tuple(labels)


def distance_range_rule(text: str) -> tuple[float, float]:
    """bmtk's distance_range: a JSON pair [min, max] (um), or one number (max; min 0);
    ValueError says what is wrong."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [0.0, value]
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and not any(math.isnan(v) for v in value)):
        raise ValueError(f"distance_range {text!r} is not [min, max] in um")
    return float(value[0]), float(value[1])
