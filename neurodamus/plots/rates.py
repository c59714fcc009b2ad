"""Population firing rates over time: spikes per bin per simulated cell, in Hz."""

from pathlib import Path

import numpy as np

from .figures import population_colour, pyplot, save
from .outputs import PopulationSpikes


def population_rates(population: PopulationSpikes, edges: np.ndarray) -> np.ndarray:
    """Mean rate per cell in each bin (Hz); cells = the simulated count, else those that spiked."""
    counts, _ = np.histogram(population.times, bins=edges)
    cells = population.cells or max(np.unique(population.node_ids).size, 1)
    return counts / cells / (np.diff(edges) / 1000.0)


def time_bins(populations: list[PopulationSpikes], bin_ms: float) -> np.ndarray:
    last = max((p.times.max() for p in populations if p.times.size), default=0.0)
    return np.arange(0.0, (np.floor(last / bin_ms) + 1) * bin_ms + bin_ms / 2, bin_ms)


def draw_rates(populations: list[PopulationSpikes], path: Path, bin_ms: float) -> Path:
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(10, 4))
    edges = time_bins(populations, bin_ms)
    for index, population in enumerate(populations):
        rates = population_rates(population, edges)
        cells = f"{population.cells} cells" if population.cells else "spiking cells"
        axis.step(edges[:-1], rates, where="post", color=population_colour(index),
                  label=f"{population.name} ({cells})")
    axis.set_xlabel("time [ms]")
    axis.set_ylabel("rate per cell [Hz]")
    axis.set_title(f"Firing rates ({bin_ms:g} ms bins)")
    if populations:
        axis.legend(fontsize="small")
    figure.tight_layout()
    return save(figure, path)
