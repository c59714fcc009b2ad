"""Chemical synapses: the edge population's synapse model (synapse_models.py) placed at
(section, position) and connected to its presynaptic gid with the edge's delay and weight.

syn_type_id < 100 is inhibitory, otherwise excitatory; the model maps the edge attributes
to its mechanism's parameters and keys its random streams.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from .synapse_models import SynapseKey, SynapseModel, default_model

INHIBITORY_BELOW = 100
# Extracellular calcium at which u_syn is given (mM): the Hill scaling is 1 there.
REFERENCE_CALCIUM = 2.0


@dataclass(slots=True)
class Synapse:
    """One afferent synapse of a local cell, in SONATA edge order per edge population."""

    edge_population: str
    edge_id: int
    source_population: str
    source_node_id: int
    source_gid: int
    point_process: Any  # NEURON point process (hoc objects are untyped)
    netcon: Any  # NEURON NetCon
    weight: float  # nS, before overrides
    inhibitory: bool
    minis_rate: float | None = None  # Hz, from connection overrides (None: node attributes)
    model: SynapseModel | None = None  # the SynapseModel that made it
    section_id: int = -1  # SONATA section id and normalised position on it
    location: float = float("nan")
    key: SynapseKey | None = None  # the SynapseKey its streams were keyed with
    minis: tuple | None = None  # (source, NetCon) of minis generated outside the mechanism

    def set_weight(self, weight: float):
        """The weight of presynaptic and of spontaneous releases."""
        self.netcon.weight[0] = weight
        if self.model is not None:
            self.model.set_minis_weight(self.point_process, weight)
        if self.minis is not None:
            self.minis[1].weight[0] = weight


def hill_scaling(calcium: float, coefficient: float) -> float:
    """Scale of u_syn at `calcium` (mM): a Hill function of order 4 with half-activation
    `coefficient`, normalised to 1 at the reference 2 mM at which u_syn was measured."""
    k4, c4 = coefficient ** 4, calcium ** 4
    return (k4 + REFERENCE_CALCIUM ** 4) / REFERENCE_CALCIUM ** 4 * c4 / (k4 + c4)


# Synapses are kept off the section ends (the zero-area nodes), as the reference simulator
# keeps them: an edge at 0 or 1 sits in the first or last segment.
INSIDE_SECTION = (1e-7, 0.9999999)


def inside_section(x: float) -> float:
    return min(max(x, INSIDE_SECTION[0]), INSIDE_SECTION[1])


def segment_position(section, segment_id: int, offset: float) -> float:
    """Normalised position of (3D segment `segment_id`, `offset` um along it) on `section`,
    counted from the section's 0 end whatever its orientation; a section without that
    point (e.g. a replacement axon, which has no 3D points) gets its middle."""
    offset = max(offset, 0.0)
    reversed_section = section.orientation() == 1
    if reversed_section:
        segment_id, offset = int(section.n3d()) - 1 - segment_id, -offset
    position = 0.5
    if 0 <= segment_id < section.n3d():
        position = inside_section((section.arc3d(segment_id) + offset) / section.L)
    return 1 - position if reversed_section else position


class EdgeRow:
    """One edge's view of the parameter columns: `row["u_syn"]` (no per-edge dict)."""

    __slots__ = ("columns", "i")

    def __init__(self, columns: dict, i: int):
        self.columns, self.i = columns, i

    def __getitem__(self, name: str):
        return self.columns[name][self.i]


class SynapseFactory:
    """Creates synapses with their parameters and random streams through the synapse model
    of each edge population (see synapse_models.py), per the run's conditions.

    This loop runs once per synapse (millions per rank): edge attributes are turned into
    Python lists first.
    """

    def __init__(self, h, pc, run_settings, conditions, reference_offsets=None):
        self.h, self.pc = h, pc
        self.run, self.conditions = run_settings, conditions
        self.calcium = conditions.extracellular_calcium
        self.reference_offsets = reference_offsets or {}

    def _use(self, attributes, name="u_syn"):
        """A release probability scaled for extracellular calcium (Hill function)."""
        use = np.asarray(attributes[name], float)
        hill = np.asarray(attributes["u_hill_coefficient"], float)
        if self.calcium is not None:
            scaled = np.isfinite(hill)
            use = use.copy()
            use[scaled] *= [hill_scaling(self.calcium, k) for k in hill[scaled]]
        return use

    def _parameters(self, edges, model) -> dict:
        """Columns (lists over the edges) of the values `model` maps onto its mechanism."""
        a = edges.attributes
        columns = {name: np.asarray(a[name], float).tolist() for name in (
            "conductance", "decay_time", "depression_time", "facilitation_time",
            "n_rrp_vesicles", "conductance_scale_factor")}
        columns["u_syn"] = self._use(a, "u_syn").tolist()
        for name in model.edge_attributes:
            values = self._use(a, name) if name in model.calcium_scaled else a[name]
            columns[name] = np.asarray(values, float).tolist()
        for name, value in model.absent_defaults.items():
            if name not in edges.available:
                columns[name] = [value] * len(edges)
        return columns

    def connect(self, edges, cells_by_node_id: dict, source_offset: int, models=None) -> int:
        """Create every synapse of `edges` on the local cells; returns how many were made.
        `models`: one SynapseModel per edge (modoverride), one for all, or None (default)."""
        h, pc = self.h, self.pc
        if models is None or isinstance(models, SynapseModel):
            models = [models or default_model(h)] * len(edges)
        a = edges.attributes
        rows: list[EdgeRow | None] = [None] * len(edges)
        weights = [0.0] * len(edges)
        for model in {id(m): m for m in models}.values():
            columns, model_weights = self._parameters(edges, model), model.weights(a)
            for i, chosen in enumerate(models):
                if chosen is model:
                    rows[i], weights[i] = EdgeRow(columns, i), float(model_weights[i])
        inhibitory = (np.asarray(a["syn_type_id"]) < INHIBITORY_BELOW).tolist()
        delays = np.asarray(a["delay"], float).tolist()
        targets, sources = edges.target_node_ids.tolist(), edges.source_node_ids.tolist()
        edge_ids = edges.edge_ids.tolist()
        reference_offset = self.reference_offsets.get(edges.target_population, 0)
        section_ids = edges.section_ids.tolist()
        positions: list[float] | None = None  # else segment ids and offsets locate them
        segment_ids: list[int] = []
        segment_offsets: list[float] = []
        if edges.section_pos is not None:
            positions = np.clip(np.asarray(edges.section_pos, float), *INSIDE_SECTION).tolist()
        else:
            segment_ids = np.asarray(edges.segment_ids, np.int64).tolist()
            segment_offsets = np.asarray(edges.segment_offsets, float).tolist()
        population_index: dict[int, int] = {}  # target node -> synapses of this population so far
        for i in range(len(edges)):
            model = models[i]
            cell = cells_by_node_id[targets[i]]
            index_here = population_index.get(targets[i], 0)
            population_index[targets[i]] = index_here + 1
            key = SynapseKey(gid=cell.gid, index=len(cell.synapses),
                             reference_gid=reference_offset + targets[i] + 1,
                             population_index=index_here,
                             source_population=edges.source_population,
                             target_population=edges.target_population)
            section = cell.sections[cell.section_index(section_ids[i])]
            x = positions[i] if positions is not None else segment_position(
                section, segment_ids[i], segment_offsets[i])
            synapse = model.create(h, section(x), inhibitory[i], rows[i], key, self.run,
                                   self.conditions)
            source_gid = source_offset + sources[i]
            netcon = pc.gid_connect(source_gid, synapse)
            netcon.weight[0] = weights[i]
            netcon.delay = delays[i]
            cell.synapses.append(Synapse(edges.population, edge_ids[i], edges.source_population,
                                         sources[i], source_gid, synapse, netcon, weights[i],
                                         inhibitory[i], model=model,
                                         section_id=section_ids[i], location=x,
                                         key=key))
        return len(edges)
