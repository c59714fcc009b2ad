"""synapse_replay: spikes from a file delivered through the existing synapses.

Every spike of source node n at time t (delay <= t < delay + duration) reaches each
synapse whose presynaptic cell is n, on the input's target cells, at t + the synapse's
delay, with the synapse's weight: an event on the synapse's own NetCon. Works for
virtual sources (which have no cell). Spike files are read leniently: the SONATA layout
(/spikes/<population>/{timestamps, node_ids}) or the older /spikes/{gids, timestamps},
which names no population and needs the input's `source`.
"""

from pathlib import Path

import h5py
import numpy as np

from ..errors import ConfigError
from ..hdf5_files import hdf5_problem

# Marks the populations that are virtual copies of recorded cells (bmtk's replay inputs):
# `<population><REPLAY_COPY_MARK><input>`, and their edges `<edges><REPLAY_COPY_MARK><input>`.
REPLAY_COPY_MARK = "__replay_"


def read_spike_file(path: Path, source: str | None, input_name: str) -> dict:
    """{population: (times, node_ids)} from a spike file, restricted to `source` if given."""
    key = f"inputs.{input_name}.spike_file"
    if not path.is_file():
        raise ConfigError(f"spike file {path} not found", key=key)
    problem = hdf5_problem(path)
    if problem is not None:
        raise ConfigError(f"spike file {path} {problem}", key=key)
    with h5py.File(path, "r") as f:
        spikes = f.get("spikes")
        if spikes is None:
            raise ConfigError(f"{path} has no /spikes group", key=key)
        if "gids" in spikes and "timestamps" in spikes:
            if source is None:
                raise ConfigError(f"{path} uses the old /spikes/gids layout, which names no "
                                  "population: give the input a 'source'", key=key)
            data = {source: (np.asarray(spikes["timestamps"], float),
                             np.asarray(spikes["gids"], np.int64))}
        else:
            data = {name: (np.asarray(group["timestamps"], float),
                           np.asarray(group["node_ids"], np.int64))
                    for name, group in spikes.items() if isinstance(group, h5py.Group)}
    if source is not None and source not in data:
        raise ConfigError(f"population '{source}' not in spike file {path} "
                          f"(it has {sorted(data)})", key=key)
    if source is not None:
        data = {source: data[source]}
    if not data:
        raise ConfigError(f"no spikes populations in {path}", key=key)
    return data


class SpikeReplay:
    """Queues the replayed events, NetCon events on the synapses' own NetCons, at every
    finitialize (events do not survive it). The same under both solvers: CoreNEURON takes
    NEURON's event queue with the model at every psolve and hands back what is left.

    After a restore, `requeue_after(t)` queues only the events not yet delivered at t: a
    fixed step delivers the events due up to its end time as it ends, so at t (where a
    window ended) those due at or before t are gone and the later ones are still queued."""

    def __init__(self, h):
        self.h = h
        self.deliveries = []  # (netcon, times)
        self.skip_initial = False  # set while restoring: the checkpoint decides the queue
        self.handler = h.FInitializeHandler(1, self._queue)

    def add(self, netcon, times):
        self.deliveries.append((netcon, np.asarray(times, float)))

    def _queue(self, after=None):
        if self.skip_initial and after is None:
            return
        for netcon, times in self.deliveries:
            due = times + netcon.delay
            if after is not None:
                due = due[due > after]
            for time in due:
                netcon.event(float(time))

    def requeue_after(self, t, dt):
        self._queue(after=t)

    @property
    def event_count(self) -> int:
        return sum(times.size for _, times in self.deliveries)


def within_population(node_ids, size: int) -> np.ndarray:
    """Which spikes name a node of the population; the others are skipped (validation.replay
    warns once with their count)."""
    return (node_ids >= 0) & (node_ids < size)


def _replay_plan(replay_inputs, circuit, config_dir: Path):
    """Per input: its settings, {source gid: spike times in its window}, its target gids."""
    for settings in replay_inputs:
        spike_file = Path(settings.parameters["spike_file"])
        if not spike_file.is_absolute():
            spike_file = config_dir / spike_file
        spikes = read_spike_file(spike_file, settings.parameters.get("source"), settings.name)
        for name in spikes:
            if name not in circuit.populations:
                raise ConfigError(f"spike file population '{name}' is not in the circuit",
                                  key=f"inputs.{settings.name}.spike_file")
        start, stop = settings.delay, settings.delay + settings.duration
        by_source: dict[int, list[float]] = {}  # source gid -> spike times
        for population, (times, node_ids) in spikes.items():
            keep = (times >= start) & (times < stop) & within_population(
                node_ids, circuit.populations[population].size)
            gids = circuit.populations[population].gids(node_ids[keep])
            for gid, time in zip(gids.tolist(), times[keep].tolist()):
                by_source.setdefault(gid, []).append(time)
        yield settings, by_source, set(circuit.target_gids(settings.node_set).tolist())


def schedule_replays(replay_inputs, circuit, cells, h, config_dir: Path):
    """Queue the replayed spikes as events on the NetCons of the synapses of the input's
    target cells only (whatever other cells the source reaches), under either solver
    (CoreNEURON delivers the events NEURON queued)."""
    replay = SpikeReplay(h)
    for _, by_source, targets in _replay_plan(replay_inputs, circuit, config_dir):
        for cell in cells:
            if cell.gid not in targets:
                continue
            for receiver in (*cell.synapses, *getattr(cell, "modulators", ())):
                times = by_source.get(receiver.source_gid)
                if times:
                    replay.add(receiver.netcon, sorted(times))
    return replay
