"""Replay spike files: node ids within their source population (an error: they would be
the gids of other cells or of none) and negative times (a warning: never delivered)."""

import numpy as np

from ..errors import ConfigError


def check_replay_spikes(spikes: dict, sizes: dict[str, int], path, key: str) -> list[str]:
    """`spikes`: {population: (times, node_ids)}. Raises on node ids beyond a population;
    returns one warning per population with negative times."""
    problems, warnings = [], []
    for population, (times, node_ids) in spikes.items():
        if population not in sizes:
            problems.append(f"spike file population '{population}' is not in the circuit")
            continue
        node_ids, times = np.asarray(node_ids, np.int64), np.asarray(times, float)
        limit = sizes[population]
        bad = (node_ids < 0) | (node_ids >= limit)
        if bad.any():
            problems.append(
                f"population '{population}', attribute 'node_ids': {int(bad.sum())} of "
                f"{bad.size} spikes name nodes beyond the population ({limit} nodes) (spike "
                f"{int(np.argmax(bad))}: node {int(node_ids[np.argmax(bad)])})")
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
