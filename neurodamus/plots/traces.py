"""Soma traces of a frame report: one panel per population, one line per node."""

from pathlib import Path

from .figures import pyplot, save
from .outputs import SomaTraces


def draw_traces(report: str, populations: list[SomaTraces], path: Path) -> Path:
    plt = pyplot()
    rows = max(len(populations), 1)
    figure, axes = plt.subplots(rows, 1, sharex=True, squeeze=False, figsize=(10, 1 + 2.5 * rows))
    for traces, axis in zip(populations, axes[:, 0]):
        for column, node in enumerate(traces.node_ids):
            axis.plot(traces.times, traces.values[:, column], linewidth=0.8, label=f"node {node}")
        axis.set_ylabel(f"{traces.population}\n[{traces.units}]")
        if traces.node_ids.size <= 10:
            axis.legend(fontsize="x-small", loc="upper right")
    if not populations:
        axes[0, 0].set_title("no nodes in the report")
    axes[-1, 0].set_xlabel("time [ms]")
    figure.suptitle(f"Report '{report}': first element of each node (the soma)")
    figure.tight_layout()
    return save(figure, path)
