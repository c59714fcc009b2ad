"""Reading our runs' output files as the reference's tests read theirs (its ReportReader's
column order and allclose), and the two ways a case states an assertion (check, close)."""

import copy
import json
from pathlib import Path

import libsonata
import numpy as np

# -- reading outputs ---------------------------------------------------------------------

class Report:
    """A SONATA frame report: per population (node ids, [(node, element)], data)."""

    def __init__(self, path: Path):
        reader = libsonata.ElementReportReader(str(path))
        self.populations = {}
        for name in sorted(reader.get_population_names()):
            frames = reader[name].get()
            ids = np.asarray(frames.ids, np.int64).reshape(-1, 2)
            # columns sorted by (node, element id), ties kept in file order: the reference's
            # ReportReader sorts them so, and its tests' column positions count in that order
            order = np.lexsort((ids[:, 1], ids[:, 0]))
            self.populations[name] = (sorted(reader[name].get_node_ids()),
                                      [tuple(map(int, ids[k])) for k in order],
                                      np.asarray(frames.data, float)[:, order])

    def allclose(self, other, rtol=1e-16, atol=1e-16, skip_first=True) -> tuple[bool, str]:
        """The reference's ReportReader.allclose: same populations and nodes, values close
        from the second frame on (its first may be CoreNEURON's garbage)."""
        if set(self.populations) != set(other.populations):
            return False, f"populations {sorted(self.populations)} != {sorted(other.populations)}"
        for name, (nodes, _, data) in self.populations.items():
            other_nodes, _, other_data = other.populations[name]
            if nodes != other_nodes:
                return False, f"{name}: nodes {nodes} != {other_nodes}"
            start = 1 if skip_first else 0
            if data.shape != other_data.shape:
                return False, f"{name}: shape {data.shape} != {other_data.shape}"
            if not np.allclose(data[start:], other_data[start:], rtol=rtol, atol=atol):
                worst = np.max(np.abs(data[start:] - other_data[start:]))
                return False, f"{name}: max |difference| {worst:.3g}"
        return True, ""

    def summed_per_node(self) -> "Report":
        """The reference's convert_to_summation: one column per node, the sum of its."""
        out = copy.copy(self)
        out.populations = {}
        for name, (nodes, ids, data) in self.populations.items():
            node_of = np.array([node for node, _ in ids])
            columns = [data[:, node_of == node].sum(axis=1) for node in nodes]
            out.populations[name] = (nodes, [(n, 0) for n in nodes],
                                     np.array(columns).T if columns else data[:, :0])
        return out

    def plus(self, other: "Report") -> "Report":
        out = copy.copy(self)
        out.populations = {name: (nodes, ids, data + other.populations[name][2])
                           for name, (nodes, ids, data) in self.populations.items()}
        return out

    def columns(self, population: str, positions) -> "Report":
        out = copy.copy(self)
        nodes, ids, data = self.populations[population]
        chosen = [ids[p] for p in positions]
        out.populations = {population: (sorted({n for n, _ in chosen}), chosen,
                                        data[:, positions])}
        return out


def spikes_path(output: Path) -> Path:
    """The run's spikes file (the config's output.spikes_file, as the run summary names it)."""
    summary = json.loads((output / "run_summary.json").read_text())
    named = summary.get("spikes_file")
    return Path(named) if named else output / "out.h5"


def spikes(output: Path, population: str | None = None):
    """(times, node ids) of a population (the first one when None), sorted by time, id."""
    reader = libsonata.SpikeReader(str(spikes_path(output)))
    names = sorted(reader.get_population_names())
    times, ids = reader[population or names[0]].get_dict()["timestamps"], \
        reader[population or names[0]].get_dict()["node_ids"]
    order = np.lexsort((ids, times))
    return np.asarray(times)[order], np.asarray(ids)[order]


# Marks an assertion that the reference neurodamus itself does not hold on this machine (its
# 4.2.9, run on the same config with the same NEURON wheel); the table counts such tests apart.
REFERENCE_TOO = "the reference 4.2.9 here gives"


def check(name, condition, why="", reference_here=None) -> tuple[str, bool, str]:
    """One assertion. `reference_here`: what the reference gives on this machine where that
    fails the assertion too (measured by running it: docs/supported.md says how)."""
    if condition:
        return name, True, ""
    if reference_here is not None:
        why = f"{why} ({REFERENCE_TOO} {reference_here})"
    return name, False, why


def close(name, actual, expected, **tolerances):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    if actual.shape != expected.shape:
        return check(name, False, f"shape {actual.shape} != {expected.shape}")
    ok = np.allclose(actual, expected, **tolerances)
    worst = np.max(np.abs(actual - expected)) if actual.size else 0.0
    return check(name, ok, f"max |difference| {worst:.3g}; got {actual[:6]} expected "
                           f"{expected[:6]}")



def spike_count(output: Path) -> int:
    reader = libsonata.SpikeReader(str(spikes_path(output)))
    return sum(len(reader[p].get()) for p in reader.get_population_names())
