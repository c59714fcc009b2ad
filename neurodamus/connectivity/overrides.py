"""Applying connection_overrides to the local synapses.

For each synapse the overrides whose source and target node sets contain its two ends
are applied in config order, so the later wins where they overlap. Weight and
synapse_configure with `delay` > 0 take effect at that time (a scheduled event);
synapse_delay_override and spont_minis apply from the start.
"""

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
    """Weight and configure changes at later times, re-armed at every finitialize.

    A restore replaces the event queue: `requeue_after(t)` then applies, in order, the
    changes already due (they are idempotent) and re-arms the later ones."""

    def __init__(self, h):
        self.h = h
        self.changes = []  # (time, order, callable)
        self.skip_initial = False
        self.handler = h.FInitializeHandler(self._arm)

    def add(self, time, action):
        self.changes.append((time, len(self.changes), action))

    def _ordered(self):
        return sorted(self.changes, key=lambda c: (c[0], c[1]))

    def _arm(self):
        if self.skip_initial:
            return
        for time, _, action in self._ordered():
            self.h.cvode.event(time, action)

    def requeue_after(self, t, dt):
        for time, _, action in self._ordered():
            if time <= t - 0.5 * dt:
                action()
            else:
                self.h.cvode.event(time, action)


def apply_overrides(overrides, circuit, cells, h) -> ScheduledChanges:
    """Apply immediately what applies from t = 0; schedule the rest."""
    scheduled = ScheduledChanges(h)
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

            if override.delay > 0:
                scheduled.add(override.delay, change)
            else:
                change()
    return scheduled
