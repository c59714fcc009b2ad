"""The one writer of SONATA HDF5 files for the generated test circuits.

Every test circuit (circuit_builder's, point_style's, allen_style's, bbp_style's, the
bmtk-layout copies and the Dynap-SE exporter's point networks) writes its nodes and edges
through this module, so the files' skeleton is written in one place: the root attributes
(`hdf5_files.stamp_sonata`, the only place the magic number is written), a population's
type ids and group indices, its attribute group `0` with `dynamics_params`, edge ends
with their `node_population`, and the edge indices libsonata reads. The generators keep
only what makes their circuits differ: which attributes, with which values.

Values are given per element (an array or a list) or once for all (a scalar); strings are
written as HDF5 variable-length strings, numbers with the dtype they come with.
"""

import contextlib
from pathlib import Path

import h5py
import libsonata
import numpy as np

from ..hdf5_files import stamp_sonata

__all__ = ["column", "edge_indices", "sonata_file", "string_dataset", "write_columns",
           "write_edge_population", "write_node_population", "write_values"]


@contextlib.contextmanager
def sonata_file(path):
    """A new HDF5 file at `path` with SONATA's root attributes, open for writing."""
    with h5py.File(path, "w") as h5file:
        stamp_sonata(h5file)
        yield h5file


def string_dataset(group: h5py.Group, name: str, values) -> None:
    """`values` (strings) as a dataset of variable-length strings, as libsonata reads them."""
    group.create_dataset(name, data=np.array(values, dtype=object), dtype=h5py.string_dtype())


def column(value, count: int):
    """One value per element: an array or list as it is, a scalar repeated `count` times
    (a string as a list of strings)."""
    if isinstance(value, str):
        return [value] * count
    if isinstance(value, list) and any(isinstance(v, str) for v in value):
        return value
    array = np.asarray(value)
    return np.full(count, array.item()) if array.ndim == 0 else array


def write_values(group: h5py.Group, name: str, value, count: int, order=None) -> None:
    """One attribute column (see `column`), reordered by `order` when given."""
    data = column(value, count)
    if order is not None:
        data = [data[i] for i in order] if isinstance(data, list) else np.asarray(data)[order]
    if isinstance(data, list) or data.dtype.kind in "OUS":
        string_dataset(group, name, [v.decode() if isinstance(v, bytes) else str(v)
                                     for v in data])
    else:
        group.create_dataset(name, data=data)


def write_columns(group: h5py.Group, attributes: dict, count: int, order=None,
                  dynamics: dict | None = None) -> None:
    """The attributes into `group`, and `dynamics` into its `dynamics_params` group (None:
    no such group; an empty dict: an empty one)."""
    for name, value in attributes.items():
        write_values(group, name, value, count, order)
    if dynamics is not None:
        params = group.create_group("dynamics_params")
        for name, value in dynamics.items():
            write_values(params, name, value, count, order)


def write_node_population(h5file: h5py.File, name: str, size: int, attributes: dict,
                          dynamics: dict | None = None, *, group_index: bool = True) -> h5py.Group:
    """`nodes/<name>`: node types -1, one group `0` holding `attributes` (and `dynamics`);
    `group_index` False leaves out node_group_id / node_group_index (a single group is
    implicit, as in some published circuits). Gives the group `0`."""
    population = h5file.create_group(f"nodes/{name}")
    population.create_dataset("node_type_id", data=np.full(size, -1, np.int64))
    if group_index:
        population.create_dataset("node_group_id", data=np.zeros(size, np.int64))
        population.create_dataset("node_group_index", data=np.arange(size, dtype=np.int64))
    group = population.create_group("0")
    write_columns(group, attributes, size, dynamics=dynamics)
    return group


def write_edge_population(h5file: h5py.File, name: str, source: str, target: str, sources,
                          targets, attributes: dict, dynamics: dict | None = None, *,
                          sort: bool = True, group_index: bool = True) -> None:
    """`edges/<name>` from node population `source` to `target`: edge k joins `sources[k]`
    to `targets[k]`; sorted by (target, source) unless `sort` is False; edge types -1, one
    group `0` with `attributes` (and `dynamics`)."""
    sources, targets = np.asarray(sources), np.asarray(targets)
    count = sources.size
    order = np.lexsort((sources, targets)) if sort else None
    if order is not None:
        sources, targets = sources[order], targets[order]
    population = h5file.create_group(f"edges/{name}")
    for end, ids, node_population in (("source_node_id", sources, source),
                                      ("target_node_id", targets, target)):
        population.create_dataset(end, data=ids.astype(np.uint64))
        population[end].attrs["node_population"] = node_population
    population.create_dataset("edge_type_id", data=np.full(count, -1, np.int64))
    if group_index:
        population.create_dataset("edge_group_id", data=np.zeros(count, np.int64))
        population.create_dataset("edge_group_index", data=np.arange(count, dtype=np.uint64))
    write_columns(population.create_group("0"), attributes, count, order, dynamics)


def edge_indices(path, name: str, n_sources: int, n_targets: int) -> None:
    """The source and target indices of edge population `name` in `path` (libsonata's)."""
    libsonata.EdgePopulation.write_indices(str(Path(path)), name, n_sources, n_targets)
