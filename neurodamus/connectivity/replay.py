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
# The copies bmtk's `syn_activity` input drives (its recurrent edges, from copies of their
# sources that fire at the input's timestamps): `<population><SPONT_COPY_SUFFIX>`.
SPONT_COPY_SUFFIX = f"{REPLAY_COPY_MARK}syn_activity"


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
    """Queues the replayed events, NetCon events on the synapses' own NetCons, window by
    window: before each psolve, the events due by the time that window ends (and no later
    one). A run hook (run.py): `before_run` places the cursor at the start time (0, or the
    restored time) and `before_window(h, end)` queues the events due in (previous end, end].

    Why not all at once: BBSaveState cannot write a NetCon.event still in NEURON's queue. It
    takes every pending NetCon event for a spike of the NetCon's source gid in flight (due
    minus delay), which a replayed event is not: it aborts the job (bbsavestate.cpp
    tqcallback, `assert(0)`) when two such "spikes" of one source lie within 0.1 ms, drops
    the events of source-less NetCons, and would re-send those of a real source to all its
    targets on restore. Queued by window, none is pending where a window ends, so a
    checkpoint at any window end holds no replay event; a restore continues from the
    cursor. `end` is the time NEURON's clock reads after the window (run.window_end, the
    sum of its half steps): a fixed step delivers at its end the events due up to its end
    time, and at the next step's start those up to half a step later, so the events due
    by `end` are delivered inside the window and the later ones are queued before the
    next window's first step, which delivers them as the uninterrupted queue would.
    The same under both solvers: CoreNEURON takes NEURON's event queue with the model at
    every psolve and hands back what is left (here: nothing of the replay)."""

    def __init__(self, h):
        self.h = h
        self.netcons: list = []
        self._times: list[np.ndarray] = []
        self._due: np.ndarray | None = None  # every event's due time, ascending (built once)
        self._order = np.zeros(0, np.int64)  # netcon index of each event, by due time
        self.cursor = 0  # events before it are queued (and, at a window end, delivered)

    def add(self, netcon, times):
        self.netcons.append(netcon)
        self._times.append(np.asarray(times, float))
        self._due = None  # rebuilt on first use

    def _events(self) -> tuple[np.ndarray, np.ndarray]:
        if self._due is None:
            due = [times + netcon.delay for netcon, times in zip(self.netcons, self._times)]
            index = [np.full(d.size, i, np.int64) for i, d in enumerate(due)]
            flat = np.concatenate(due) if due else np.zeros(0)
            which = np.concatenate(index) if index else np.zeros(0, np.int64)
            order = np.argsort(flat, kind="stable")  # ties keep the netcon, then time order
            self._due, self._order = flat[order], which[order]
        return self._due, self._order

    def before_run(self, h):
        """After finitialize (and a restore): the events due after h.t are still to queue
        (at 0 all of them; after a restore at t, those delivered before t are not)."""
        due, _ = self._events()
        self.cursor = int(np.searchsorted(due, h.t, side="right")) if h.t > 0 else 0

    def before_window(self, h, end: float):
        """Queue the events due by `end`, the time the coming window ends at."""
        due, order = self._events()
        stop = int(np.searchsorted(due, end, side="right"))
        for position in range(self.cursor, stop):
            self.netcons[order[position]].event(float(due[position]))
        self.cursor = max(self.cursor, stop)

    def pending_after(self, t: float) -> int:
        """How many queued replay events are due after t (0 wherever a window ended)."""
        due, _ = self._events()
        return int(np.count_nonzero(due[:self.cursor] > t))

    @property
    def event_count(self) -> int:
        return sum(times.size for times in self._times)


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
