"""Synthetic SWC morphologies for generated circuits.

Each morphology is a soma sphere plus unbranched or once-branching neurites. The
section layout (how many axon, basal and apical sections) is returned with the file
so that the circuit generator can place synapses on existing sections: SONATA
section ids count the soma as 0, then axon, basal and apical sections in file order.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SWC_SOMA, SWC_AXON, SWC_BASAL, SWC_APICAL = 1, 2, 3, 4


@dataclass(frozen=True)
class MorphologyLayout:
    """Which section ids of a morphology belong to which neurite kind."""

    name: str
    n_axon: int
    n_basal: int
    n_apical: int

    @property
    def n_sections(self) -> int:
        return 1 + self.n_axon + self.n_basal + self.n_apical

    def section_ids(self, kind: str) -> np.ndarray:
        first = {"soma": 0, "axon": 1, "basal": 1 + self.n_axon,
                 "apical": 1 + self.n_axon + self.n_basal}[kind]
        count = {"soma": 1, "axon": self.n_axon, "basal": self.n_basal,
                 "apical": self.n_apical}[kind]
        return np.arange(first, first + count)


class _SwcWriter:
    """Accumulates SWC samples; each neurite section is a straight chain of points."""

    def __init__(self, soma_radius: float):
        self.rows = [(1, SWC_SOMA, 0.0, 0.0, 0.0, soma_radius, -1)]

    def chain(self, kind: int, parent: int, start, direction, length: float,
              radius: float, n_points: int = 4) -> int:
        """Add a straight section; returns the id of its last sample."""
        start = np.asarray(start, float)
        direction = np.asarray(direction, float) / np.linalg.norm(direction)
        last = parent
        for k in range(1, n_points + 1):
            point = start + direction * length * k / n_points
            sample_id = len(self.rows) + 1
            self.rows.append((sample_id, kind, *point, radius, last))
            last = sample_id
        return last

    def point(self, sample_id: int) -> np.ndarray:
        return np.array(self.rows[sample_id - 1][2:5])

    def write(self, path: Path) -> None:
        lines = [f"{i} {t} {x:.4f} {y:.4f} {z:.4f} {r:.4f} {p}"
                 for i, t, x, y, z, r, p in self.rows]
        path.write_text("\n".join(lines) + "\n")


def write_pyramidal(path: Path, rng: np.random.Generator) -> MorphologyLayout:
    """Soma, one axon, two basal trees of three sections, one apical tree of three."""
    soma_radius = rng.uniform(8.0, 10.0)
    swc = _SwcWriter(soma_radius)
    swc.chain(SWC_AXON, 1, (0, -soma_radius, 0), (0, -1, 0), rng.uniform(150, 250), 0.5)
    for side in (-1, 1):
        trunk = swc.chain(SWC_BASAL, 1, (side * soma_radius, 0, 0), (side, -0.3, 0),
                          rng.uniform(60, 120), 1.0)
        for tilt in (-0.5, 0.5):
            swc.chain(SWC_BASAL, trunk, swc.point(trunk), (side, tilt, 0.2),
                      rng.uniform(80, 160), 0.6)
    trunk = swc.chain(SWC_APICAL, 1, (0, soma_radius, 0), (0, 1, 0), rng.uniform(150, 300), 1.5)
    for side in (-1, 1):
        swc.chain(SWC_APICAL, trunk, swc.point(trunk), (side * 0.5, 1, 0),
                  rng.uniform(100, 200), 0.8)
    swc.write(path)
    return MorphologyLayout(path.stem, n_axon=1, n_basal=6, n_apical=3)


def write_interneuron(path: Path, rng: np.random.Generator) -> MorphologyLayout:
    """Soma, one axon and four unbranched basal dendrites."""
    soma_radius = rng.uniform(6.0, 8.0)
    swc = _SwcWriter(soma_radius)
    swc.chain(SWC_AXON, 1, (0, -soma_radius, 0), (0, -1, 0.1), rng.uniform(100, 200), 0.5)
    for angle in (0.0, 0.5 * np.pi, np.pi, 1.5 * np.pi):
        direction = (np.cos(angle), np.sin(angle), 0.1)
        start = soma_radius * np.array([np.cos(angle), np.sin(angle), 0.0])
        swc.chain(SWC_BASAL, 1, start, direction, rng.uniform(80, 150), 0.8)
    swc.write(path)
    return MorphologyLayout(path.stem, n_axon=1, n_basal=4, n_apical=0)
