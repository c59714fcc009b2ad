"""Reading the afferent edges of the local cells: one libsonata call per attribute."""

from dataclasses import dataclass

import libsonata
import numpy as np

from ..errors import CircuitError

# Optional synapse attributes and the value used when a population lacks them.
OPTIONAL_DEFAULTS = {"n_rrp_vesicles": 1, "facilitation_time": 0.0, "decay_time": np.nan,
                     "u_syn": 0.5, "depression_time": 0.0, "conductance_scale_factor": 1.0,
                     "u_hill_coefficient": np.nan}
REQUIRED = ("conductance", "delay", "syn_type_id")


@dataclass
class AfferentEdges:
    """Arrays over the afferent edges of the local cells of one edge population, in edge-id
    order."""

    population: str
    source_population: str
    target_population: str
    edge_ids: np.ndarray
    source_node_ids: np.ndarray
    target_node_ids: np.ndarray
    section_ids: np.ndarray
    section_pos: np.ndarray | None  # None when the file gives segment id / offset instead
    segment_ids: np.ndarray | None
    segment_offsets: np.ndarray | None
    attributes: dict  # name -> array (conductance, delay, syn_type_id, u_syn, ...)
    available: frozenset = frozenset()  # the attribute names the file has (others defaulted)

    def __len__(self):
        return len(self.edge_ids)


def read_afferent_edges(edge_settings, local_target_node_ids, extra=(),
                        needed_by: str = "", required=REQUIRED) -> AfferentEdges:
    """Edges of `edge_settings` onto the given target nodes, attributes read in bulk;
    `extra` attributes are required too (`needed_by` says what needs them), beside
    `required` (edge types whose edges lack some of REQUIRED give their own)."""
    try:
        storage = libsonata.EdgeStorage(str(edge_settings.edges_file))
        population = storage.open_population(edge_settings.name)
    except (libsonata.SonataError, RuntimeError) as error:
        raise CircuitError(f"cannot open edges: {error}", population=edge_settings.name,
                           file=edge_settings.edges_file) from None
    selection = population.afferent_edges(
        np.asarray(local_target_node_ids, dtype=np.uint64).tolist())
    names = set(population.attribute_names)

    def get(name):
        return np.asarray(population.get_attribute(name, selection))

    for name in tuple(required) + ("afferent_section_id",) + tuple(extra):
        if name not in names:
            why = f" (needed by {needed_by})" if name in extra and needed_by else ""
            raise CircuitError(f"edge attribute '{name}' missing{why}",
                               population=edge_settings.name, file=edge_settings.edges_file)
    if "afferent_section_pos" in names:
        section_pos, segment_ids, segment_offsets = get("afferent_section_pos"), None, None
    elif {"afferent_segment_id", "afferent_segment_offset"} <= names:
        section_pos = None
        segment_ids, segment_offsets = get("afferent_segment_id"), get("afferent_segment_offset")
    else:
        raise CircuitError("edges need afferent_section_pos or afferent_segment_id/offset",
                           population=edge_settings.name, file=edge_settings.edges_file)
    count = selection.flat_size
    attributes = {name: get(name) for name in tuple(required) + tuple(extra)}
    for name, default in OPTIONAL_DEFAULTS.items():
        attributes[name] = get(name) if name in names else np.full(count, default)
    return AfferentEdges(
        population=edge_settings.name, source_population=population.source,
        target_population=population.target, edge_ids=np.asarray(selection.flatten(), np.int64),
        source_node_ids=np.asarray(population.source_nodes(selection), np.int64),
        target_node_ids=np.asarray(population.target_nodes(selection), np.int64),
        section_ids=get("afferent_section_id").astype(np.int64), section_pos=section_pos,
        segment_ids=segment_ids, segment_offsets=segment_offsets, attributes=attributes,
        available=frozenset(names))
