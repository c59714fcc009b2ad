"""Spikes: recorded per rank by the ParallelContext, gathered on rank 0, written as a SONATA
spike file (strict layout: /spikes/<pop>/{timestamps, node_ids}, `sorting` as the HDF5 enum).
"""

import os
from pathlib import Path

import h5py
import numpy as np

from ..hdf5_files import stamp_sonata

SORTING_ENUM = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype=np.uint8)
SORTING_VALUES = {"none": 0, "by_id": 1, "by_time": 2}


class SpikeRecorder:
    """Records every spike of the cells this rank owns."""

    def __init__(self, h, pc):
        self.times = h.Vector()
        self.gids = h.Vector()
        pc.spike_record(-1, self.times, self.gids)

    def local_spikes(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.times, dtype=np.float64), np.array(self.gids, dtype=np.int64)


def sort_spikes(times, node_ids, order: str):
    """Sort as SONATA asks: by_time (ties by node id), by_id (then by time), or leave as is."""
    times, node_ids = np.asarray(times, np.float64), np.asarray(node_ids, np.uint64)
    if order == "by_time":
        index = np.lexsort((node_ids, times))
    elif order == "by_id":
        index = np.lexsort((times, node_ids))
    else:
        index = np.arange(times.size)
    return times[index], node_ids[index]


def write_spikes(path, spikes_by_population: dict, order: str = "by_time"):
    """Write {population: (times, node_ids)}; the file appears under its name only when
    complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with h5py.File(partial, "w") as f:
        stamp_sonata(f)
        for population in sorted(spikes_by_population):
            unsorted_times, unsorted_ids = spikes_by_population[population]
            times, node_ids = sort_spikes(unsorted_times, unsorted_ids, order)
            group = f.create_group(f"spikes/{population}")
            group.attrs.create("sorting", SORTING_VALUES[order], dtype=SORTING_ENUM)
            stamps = group.create_dataset("timestamps", data=times)
            stamps.attrs["units"] = "ms"
            group.create_dataset("node_ids", data=node_ids)
    os.replace(partial, path)


def write_spikes_csv(path, spikes_by_population: dict, order: str = "by_time"):
    """bmtk's CSV spike file: header `timestamps population node_ids`, space separated,
    one spike a row (in the h5 file's order, population by population, then merged by
    time when sorted by time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for population in sorted(spikes_by_population):
        times, node_ids = sort_spikes(spikes_by_population[population][0],
                                      spikes_by_population[population][1], order)
        rows += [(float(t), population, int(n)) for t, n in zip(times, node_ids)]
    if order == "by_time":
        rows.sort(key=lambda row: row[0])
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text("timestamps population node_ids\n"
                       + "".join(f"{t!r} {p} {n}\n" for t, p, n in rows))
    os.replace(partial, path)


def read_spikes_by_population(path, ordered: bool = False) -> dict:
    """{population: (times, node_ids)} read with libsonata's SpikeReader (for tests and
    tools); `ordered`: by time, then node id (runs that differ only in file order compare
    equal)."""
    import libsonata

    reader = libsonata.SpikeReader(str(path))
    out = {}
    for population in reader.get_population_names():
        data = reader[population].get_dict()
        times = np.asarray(data["timestamps"], np.float64)
        nodes = np.asarray(data["node_ids"], np.int64)
        if ordered:
            order = np.lexsort((nodes, times))
            times, nodes = times[order], nodes[order]
        out[population] = (times, nodes)
    return out
