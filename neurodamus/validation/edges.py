"""Edge checks: node ids within their populations (a scan split over the ranks), values
finite, delays not negative (and a warning below dt), section ids within each target
cell's sections (against the built cells' section counts, before any synapse is made)."""

import libsonata
import numpy as np

from ..errors import CircuitError, NeurodamusError
from .arrays import BadValues, find_bad

NO_LIMIT = np.iinfo(np.int64).max  # cells without a section count (point neurons)


def raise_if_any(problems, file, population: str):
    """One CircuitError naming every problem found (first line: file and population)."""
    problems = [p for p in problems if p is not None]
    if problems:
        raise CircuitError("\n  ".join(p.describe() for p in problems), population=population,
                           file=file)


def rank_slice(count: int, rank: int, size: int) -> tuple[int, int]:
    """This rank's contiguous share of `count` edges (the ranks together cover all once)."""
    return count * rank // size, count * (rank + 1) // size


FRACTIONS = ("afferent_section_pos", "efferent_section_pos")  # SONATA: in [0, 1]


def check_edge_ids(edge_settings, source_size: int, target_size: int, rank: int = 0,
                   size: int = 1):
    """Source and target node ids of this rank's share of the population within their
    populations (edges onto ids beyond the targets are never read otherwise), and the
    positions along sections (FRACTIONS) in [0, 1] (NEURON would clip them silently)."""
    name, file = edge_settings.name, edge_settings.edges_file
    try:
        population = libsonata.EdgeStorage(str(file)).open_population(name)
    except (libsonata.SonataError, RuntimeError) as error:
        raise CircuitError(f"cannot open edges: {error}", population=name, file=file) from None
    start, stop = rank_slice(population.size, rank, size)
    if start == stop:
        return
    selection = libsonata.Selection([(start, stop)])
    edge_ids = np.arange(start, stop, dtype=np.int64)
    problems = []
    for attribute, limit, read, end in (
            ("source_node_id", source_size, population.source_nodes, population.source),
            ("target_node_id", target_size, population.target_nodes, population.target)):
        ids = np.asarray(read(selection), np.int64)
        problems.append(find_bad(ids >= limit, edge_ids, ids, file=file, population=name,
                                 attribute=attribute,
                                 what=f"are beyond node population '{end}' ({limit} nodes)"))
    for attribute in FRACTIONS:
        if attribute in population.attribute_names:
            positions = np.asarray(population.get_attribute(attribute, selection), float)
            problems.append(find_bad(~((positions >= 0) & (positions <= 1)), edge_ids,
                                     positions, file=file, population=name, attribute=attribute,
                                     what="are outside [0, 1]"))
    raise_if_any(problems, file, name)


def check_edge_values(file, population: str, edge_ids, values: dict, dt: float,
                      delay: str = "delay") -> list[BadValues]:
    """Every float array in `values` finite; `values[delay]` not negative. Raises on an
    error; returns the warnings (delays below dt) for the caller to total over ranks."""
    problems, warnings = [], []
    for attribute, array in values.items():
        array = np.asarray(array)
        if array.dtype.kind == "f":
            problems.append(find_bad(~np.isfinite(array), edge_ids, array, file=file,
                                     population=population, attribute=attribute,
                                     what="are not finite"))
    if delay in values:
        delays = np.asarray(values[delay], float)
        problems.append(find_bad(delays < 0, edge_ids, delays, file=file,
                                 population=population, attribute=delay, what="are negative"))
        short = find_bad((delays >= 0) & (delays < dt), edge_ids, delays, file=file,
                         population=population, attribute=delay,
                         what=f"are below dt = {dt} ms (delivered one step late)")
        if short is not None:
            warnings.append(short)
    raise_if_any(problems, file, population)
    return warnings


def _section_id_count(cell) -> int:
    try:
        return int(cell.section_map.id_count)
    except (NeurodamusError, AttributeError):  # no sections: the cell's own error applies
        return NO_LIMIT


def section_id_limits(cells_by_node_id: dict, node_ids) -> np.ndarray:
    """The section-id count of the target cell of each edge (a loop over cells, a lookup
    over edges)."""
    known = np.fromiter(sorted(cells_by_node_id), np.int64, len(cells_by_node_id))
    counts = np.array([_section_id_count(cells_by_node_id[n]) for n in known.tolist()],
                      np.int64)
    node_ids = np.asarray(node_ids, np.int64)
    positions = np.clip(np.searchsorted(known, node_ids), 0, max(known.size - 1, 0))
    if known.size == 0 or not np.array_equal(known[positions], node_ids):
        raise ValueError("edges onto cells that are not local")  # a bug in the caller
    return counts[positions]


def check_section_ids(file, population: str, edge_ids, node_ids, section_ids,
                      cells_by_node_id: dict, attribute: str = "afferent_section_id"):
    """Each section id within its cell's section ids (0 <= id < count)."""
    section_ids = np.asarray(section_ids, np.int64)
    if section_ids.size == 0:
        return
    limits = section_id_limits(cells_by_node_id, node_ids)
    bad = (section_ids < 0) | (section_ids >= limits)
    problem = find_bad(bad, edge_ids, section_ids, file=file, population=population,
                       attribute=attribute, what="name no section of their cell",
                       note=lambda i: f"node {int(np.asarray(node_ids)[i])} has section ids "
                                      f"0 to {int(limits[i]) - 1}")
    raise_if_any([problem], file, population)


def check_afferent_edges(edges, file, cells_by_node_id: dict, dt: float) -> list[BadValues]:
    """The checks of one read of connectivity.AfferentEdges (the attributes the file has,
    not the defaults), before any of its synapses is made; returns the warnings."""
    values = {name: array for name, array in edges.attributes.items() if name in edges.available}
    for name, array in (("afferent_section_pos", edges.section_pos),
                        ("afferent_segment_offset", edges.segment_offsets)):
        if array is not None:
            values[name] = array
    warnings = check_edge_values(file, edges.population, edges.edge_ids, values, dt)
    check_section_ids(file, edges.population, edges.edge_ids, edges.target_node_ids,
                      edges.section_ids, cells_by_node_id)
    return warnings
