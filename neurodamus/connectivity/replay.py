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


def read_spike_file(path: Path, source: str | None, input_name: str) -> dict:
    """{population: (times, node_ids)} from a spike file, restricted to `source` if given."""
    key = f"inputs.{input_name}.spike_file"
    if not path.is_file():
        raise ConfigError(f"spike file {path} not found", key=key)
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
    """Queues the replayed events at every finitialize (events do not survive it).

    After a restore, `requeue_after(t)` queues only the events not yet delivered at t (a
    fixed step delivers the events due up to half a step ahead at its start)."""

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
        self._queue(after=t - 0.5 * dt)

    @property
    def event_count(self) -> int:
        return sum(times.size for _, times in self.deliveries)


def schedule_replays(replay_inputs, circuit, cells, h, config_dir: Path) -> SpikeReplay:
    replay = SpikeReplay(h)
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
        by_source = {}
        for population, (times, node_ids) in spikes.items():
            keep = (times >= start) & (times < stop)
            gids = circuit.populations[population].gids(node_ids[keep])
            for gid, time in zip(gids.tolist(), times[keep].tolist()):
                by_source.setdefault(gid, []).append(time)
        targets = set()
        for population in circuit.populations.values():
            if not population.is_virtual:
                targets.update(population.gids(
                    circuit.node_set_ids(settings.node_set, population)).tolist())
        for cell in cells:
            if cell.gid not in targets:
                continue
            for synapse in cell.synapses:
                times = by_source.get(synapse.source_gid)
                if times:
                    replay.add(synapse.netcon, sorted(times))
    return replay
