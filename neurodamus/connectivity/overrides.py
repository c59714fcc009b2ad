"""Applying connection_overrides to the local synapses.

For each synapse the overrides whose source and target node sets contain its two ends
are applied in config order, so the later wins where they overlap. Weight and
synapse_configure with `delay` > 0 take effect at that time (the run stops there and
applies them, see ScheduledChanges); synapse_delay_override and spont_minis apply from
the start.
"""

from functools import partial

import numpy as np


def gid_array(circuit, node_set) -> np.ndarray:
    """The gids of a node set over every population of the circuit."""
    gids = [population.gids(circuit.node_set_ids(node_set, population))
            for population in circuit.populations.values()]
    return np.concatenate(gids) if gids else np.zeros(0, np.int64)


def _gid_sets(circuit, node_set):
    return set(gid_array(circuit, node_set).tolist())


def matching_overrides(overrides, circuit, cells):
    """{(gid, synapse index): [override, ...]} in config order, for the local synapses."""
    matches: dict[tuple[int, int], list] = {}
    for override in overrides:
        sources = _gid_sets(circuit, override.source)
        targets = _gid_sets(circuit, override.target)
        for cell in cells:
            if cell.gid not in targets:
                continue
            for index, synapse in enumerate(cell.synapses):
                if synapse.source_gid in sources:
                    matches.setdefault((cell.gid, index), []).append(override)
    return matches


def configure(h, statement: str, synapse):
    h(statement.replace("%s", synapse.point_process.hname()))


class ScheduledChanges:
    """Weight and synapse_configure changes that take effect at a later time, applied by the
    run loop at a window boundary (run.RunControl.actions), the same way under NEURON and
    CoreNEURON (which runs no Python events). `times` holds every delayed change of the
    config, so every rank stops at the same times, whether or not it has synapses to change;
    a restore calls again the changes due before it (each sets a value: harmless)."""

    def __init__(self, times=()):
        self.changes: dict[float, list] = {float(time): [] for time in times}

    def add(self, time, action):
        self.changes.setdefault(float(time), []).append(action)

    def _apply(self, time):
        for action in self.changes[time]:
            action()

    def timed_actions(self) -> list:
        """(time, action) per distinct time, the local changes in config order."""
        return [(time, partial(self._apply, time)) for time in sorted(self.changes)]


def _delayed(override) -> bool:
    return override.delay > 0 and (override.weight is not None
                                   or override.synapse_configure is not None)


def apply_overrides(overrides, circuit, cells, h) -> ScheduledChanges:
    """Apply immediately what applies from t = 0; schedule the rest."""
    scheduled = ScheduledChanges(o.delay for o in overrides if _delayed(o))
    cells_by_gid = {cell.gid: cell for cell in cells}
    for (gid, index), matched in matching_overrides(overrides, circuit, cells).items():
        synapse = cells_by_gid[gid].synapses[index]
        for override in matched:
            if override.synapse_delay_override is not None:
                synapse.netcon.delay = override.synapse_delay_override
            if override.spont_minis is not None:
                synapse.minis_rate = override.spont_minis
            if override.weight is None and override.synapse_configure is None:
                continue

            def change(synapse=synapse, override=override):
                if override.weight is not None:
                    synapse.set_weight(synapse.weight * override.weight)
                if override.synapse_configure is not None:
                    configure(h, override.synapse_configure, synapse)

            if _delayed(override):
                scheduled.add(override.delay, change)
            else:
                change()
    return scheduled
