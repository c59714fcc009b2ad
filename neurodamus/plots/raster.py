"""Spike raster: one panel per population, node id against time."""

from pathlib import Path

from .figures import population_colour, pyplot, save
from .outputs import PopulationSpikes


def draw_raster(populations: list[PopulationSpikes], path: Path) -> Path:
    plt = pyplot()
    figure, axes = plt.subplots(max(len(populations), 1), 1, sharex=True, squeeze=False,
                                figsize=(10, 2 + 2 * max(len(populations), 1)))
    for index, (population, axis) in enumerate(zip(populations, axes[:, 0])):
        axis.scatter(population.times, population.node_ids, s=12, marker="|",
                     color=population_colour(index))
        axis.set_ylabel(f"{population.name}\nnode id")
        axis.set_title(f"{population.name}: {population.times.size} spikes", fontsize="small")
    if not populations:
        axes[0, 0].set_title("no spiking populations")
    axes[-1, 0].set_xlabel("time [ms]")
    axes[-1, 0].set_xlim(left=0.0)
    figure.suptitle("Spike raster")
    figure.tight_layout()
    return save(figure, path)
