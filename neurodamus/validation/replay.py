"""Replay spike files: node ids beyond their source population and negative times (warnings:
such spikes are never delivered; the reference simulator and bmtk skip them too, and their
own test inputs contain some)."""

import numpy as np

from ..errors import ConfigError


def check_replay_spikes(spikes: dict, sizes: dict[str, int], path, key: str) -> list[str]:
    """`spikes`: {population: (times, node_ids)}. Raises on a population the circuit lacks;
    returns one warning per population with spikes of nodes beyond it (skipped: see
    connectivity.replay.within_population) and one per population with negative times."""
    problems, warnings = [], []
    for population, (times, node_ids) in spikes.items():
        if population not in sizes:
            problems.append(f"spike file population '{population}' is not in the circuit")
            continue
        node_ids, times = np.asarray(node_ids, np.int64), np.asarray(times, float)
        limit = sizes[population]
        bad = (node_ids < 0) | (node_ids >= limit)
        if bad.any():
            first = int(np.argmax(bad))
            warnings.append(
                f"{key}: file {path}, population '{population}', attribute 'node_ids': "
                f"{int(bad.sum())} of {bad.size} spikes name nodes beyond the population "
                f"({limit} nodes) (spike {first}: node {int(node_ids[first])}), skipped")
        negative = ~(times >= 0)
        if negative.any():
            first = int(np.argmax(negative))
            warnings.append(
                f"{key}: file {path}, population '{population}', attribute 'timestamps': "
                f"{int(negative.sum())} of {negative.size} spikes have negative or NaN times "
                f"(spike {first}: {times[first]}), never replayed")
    if problems:
        raise ConfigError(f"file {path}: " + "\n  ".join(problems), key=key)
    return warnings
