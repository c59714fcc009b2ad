"""Shared figure plumbing: a headless backend, one colour per population, saving to PNG."""

from pathlib import Path

DPI = 100


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display on compute nodes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def population_colour(index: int):
    return pyplot().get_cmap("tab10")(index % 10)


def save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    pyplot().close(figure)
    return path
