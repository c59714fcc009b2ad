"""Bulk checks of circuit data (edges, node sets, replay spikes), vectorised over whole
arrays, run before anything is built from the data and before any collective the
problem could desynchronise. Each message names the file, population, attribute, one
example and how many values are bad."""

from .arrays import BadValues, log_warning_totals
from .edges import (
    check_afferent_edges,
    check_edge_ids,
    check_edge_values,
    check_section_ids,
    section_id_limits,
)
from .node_sets import check_node_set_ids, is_empty_as_written, node_set_cycle
from .replay import check_replay_spikes

__all__ = ["BadValues", "check_afferent_edges", "check_edge_ids", "check_edge_values",
           "check_node_set_ids", "check_replay_spikes", "check_section_ids", "is_empty_as_written",
           "log_warning_totals", "node_set_cycle", "section_id_limits"]
