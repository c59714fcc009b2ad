"""Targets (the recordings a fit must match) and the losses that score a candidate.

A target's data is read once, before the fit (TargetData); a candidate's outputs are read
from its output folder after its run and scored by the target's loss, an entry of LOSSES.
A loss returns a number >= 0 that is 0 for a perfect match; the fit minimises the weighted
sum over targets.
"""

from dataclasses import dataclass
from pathlib import Path

import libsonata
import numpy as np

from ..errors import ConfigError
from ..registry import Registry
from .spec import Target


@dataclass(frozen=True)
class Traces:
    """Soma traces: `data[i]` is the trace of `node_ids[i]` at `times`."""

    node_ids: np.ndarray
    times: np.ndarray
    data: np.ndarray


@dataclass(frozen=True)
class Spikes:
    """Spike times by node id (sorted), and the number of nodes each population has."""

    by_node: dict[int, np.ndarray]


def _population(reader, target: Target, file: Path):
    names = sorted(reader.get_population_names())
    if target.population is None:
        if len(names) != 1:
            raise ConfigError(f"{file} has populations {', '.join(names)}: name one",
                              file=target.file, key=f"{target.key}.population")
        return names[0]
    if target.population not in names:
        raise ConfigError(f"{file} has no population '{target.population}' (it has "
                          f"{', '.join(names) or 'none'})", file=target.file,
                          key=f"{target.key}.population")
    return target.population


def read_traces(file: Path, target: Target, node_ids=None) -> Traces:
    """A SONATA soma report (one element per node), within the target's window."""
    try:
        reader = libsonata.ElementReportReader(str(file))
    except (libsonata.SonataError, RuntimeError, OSError) as error:
        raise ConfigError(f"not a SONATA report: {error}", file=file) from None
    population = reader[_population(reader, target, file)]
    ids = sorted(population.get_node_ids()) if node_ids is None else list(node_ids)
    if target.node_ids is not None and node_ids is None:
        ids = [i for i in ids if i in set(target.node_ids)]
    start, stop, _ = population.times
    window = target.window or (start, stop)
    frame = population.get(node_ids=ids, tstart=max(window[0], start),
                           tstop=min(window[1], stop))
    data = np.asarray(frame.data, dtype=float)
    columns = [node for node, _ in frame.ids]
    if len(set(columns)) != len(columns):
        raise ConfigError("a trace target needs one value per node (a soma report)",
                          file=file, key=f"{target.key}.file")
    order = np.argsort(columns)
    return Traces(np.asarray(columns)[order], np.asarray(frame.times, float), data[:, order].T)


def read_spikes(file: Path, target: Target) -> Spikes:
    try:
        reader = libsonata.SpikeReader(str(file))
    except (libsonata.SonataError, RuntimeError, OSError) as error:
        raise ConfigError(f"not a SONATA spikes file: {error}", file=file) from None
    population = reader[_population(reader, target, file)]
    spikes = np.asarray(population.get(), dtype=float).reshape(-1, 2)
    by_node: dict[int, list] = {}
    for node, time in spikes:
        by_node.setdefault(int(node), []).append(time)
    if target.window is not None:
        start, stop = target.window
        by_node = {n: [t for t in times if start <= t < stop] for n, times in by_node.items()}
    return Spikes({n: np.sort(np.asarray(t)) for n, t in by_node.items()})


@dataclass(frozen=True)
class Rates:
    """Target rates (Hz) per population, and the cells each population simulates."""

    rates: dict[str, float]
    cells: dict[str, int]


def spike_rates(file: Path, populations: dict[str, int], window: tuple[float, float]):
    """Mean rate (Hz) per population of a spikes file within `window`; `populations` gives
    the number of simulated cells of each."""
    reader = libsonata.SpikeReader(str(file))
    names = set(reader.get_population_names())
    rates = {}
    for name, cells in populations.items():
        count = 0
        if name in names:
            times = np.asarray(reader[name].get(), dtype=float).reshape(-1, 2)[:, 1]
            count = int(((times >= window[0]) & (times < window[1])).sum())
        rates[name] = count / (cells * (window[1] - window[0]) / 1000.0)
    return rates


class Loss:
    """Scores a candidate against a target; `target_type` is the target type it serves."""

    target_type = ""

    def score(self, expected, actual, target: Target) -> float:
        raise NotImplementedError


LOSSES: Registry[str, Loss] = Registry("loss", "loss")


class TraceRms(Loss):
    """Root mean square difference (mV) over every node and time of the window; the
    candidate's trace is interpolated onto the target's times where the two differ."""

    target_type = "report"

    def score(self, expected: Traces, actual: Traces, target):
        missing = sorted(set(expected.node_ids.tolist()) - set(actual.node_ids.tolist()))
        if missing:
            raise ConfigError(f"the candidates' report '{target.report}' has no trace of "
                              f"node(s) {missing[:5]}", key=target.key)
        rows = {int(n): i for i, n in enumerate(actual.node_ids)}
        total, count = 0.0, 0
        for i, node in enumerate(expected.node_ids):
            trace = actual.data[rows[int(node)]]
            if (actual.times.shape != expected.times.shape
                    or not np.allclose(actual.times, expected.times)):
                trace = np.interp(expected.times, actual.times, trace)
            total += float(np.sum((trace - expected.data[i]) ** 2))
            count += expected.times.size
        return float(np.sqrt(total / max(count, 1)))


def van_rossum(first: np.ndarray, second: np.ndarray, tau: float) -> float:
    """van Rossum's distance between two spike trains: the L2 norm of the difference of the
    trains filtered by exp(-t/tau), divided by tau (closed form over all pairs); in units
    of spikes, 1 for one unmatched spike is sqrt(1/2)."""
    def kernel(a, b):
        if a.size == 0 or b.size == 0:
            return 0.0
        return float(np.exp(-np.abs(a[:, None] - b[None, :]) / tau).sum())
    squared = 0.5 * (kernel(first, first) + kernel(second, second)) - kernel(first, second)
    return float(np.sqrt(max(squared, 0.0)))


class VanRossum(Loss):
    """Mean van Rossum distance over the target's nodes (its `node_ids`, else every node
    that fires in the target or the candidate)."""

    target_type = "spikes"

    def score(self, expected: Spikes, actual: Spikes, target):
        nodes = (list(target.node_ids) if target.node_ids is not None
                 else sorted(set(expected.by_node) | set(actual.by_node)))
        if not nodes:
            return 0.0
        empty = np.zeros(0)
        return float(np.mean([van_rossum(expected.by_node.get(n, empty),
                                         actual.by_node.get(n, empty), target.tau)
                              for n in nodes]))


class RateError(Loss):
    """Root mean square of the relative rate errors over the populations,
    (rate - target) / target."""

    target_type = "rates"

    def score(self, expected: Rates, actual: dict, target):
        errors = [(actual[name] - rate) / rate for name, rate in expected.rates.items()]
        return float(np.sqrt(np.mean(np.square(errors))))


LOSSES.register("rms", TraceRms())
LOSSES.register("van_rossum", VanRossum())
LOSSES.register("rate_error", RateError())


def simulated_cells(base_raw: dict, population: str) -> int:
    """Cells of `population` the simulation config simulates (its node_set, else all)."""
    circuit = libsonata.CircuitConfig.from_file(base_raw["network"])
    if population not in circuit.node_populations:
        raise ConfigError(f"the circuit has no node population '{population}'",
                          file=base_raw["network"])
    nodes = circuit.node_population(population)
    node_set = base_raw.get("node_set")
    if not node_set:
        return int(nodes.size)
    sets_file = base_raw.get("node_sets_file") or circuit.node_sets_path
    node_sets = libsonata.NodeSets.from_file(sets_file)
    return int(node_sets.materialize(node_set, nodes).flatten().size)


def load_target_data(targets, base_raw: dict) -> dict:
    """Each target's recordings (rank 0, before the fit starts)."""
    data: dict = {}
    for target in targets:
        if target.type == "report":
            data[target.name] = read_traces(target.file, target)
        elif target.type == "spikes":
            data[target.name] = read_spikes(target.file, target)
        else:
            data[target.name] = Rates(target.rates, {name: simulated_cells(base_raw, name)
                                                     for name in target.rates})
    return data
