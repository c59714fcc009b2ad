"""Detailed Neurolucida (.asc) morphologies for generated circuits: a soma contour and
branching trees (basal dendrites, an apical tree, an axon) of several hundred points, the
kind of file published BBP/OBI circuits give NEURON's Import3d (numbers with two decimals,
as in those files).

Sections are written depth first, children after their parent's last point, which is how
Import3d's Neurolucida reader expects a tree: `( ... points ... ( child 1 | child 2 ) )`.
"""

from pathlib import Path

import numpy as np

_KINDS = {"axon": ("Axon", "Yellow"), "basal": ("Dendrite", "Red"), "apical": ("Apical", "Magenta")}


class _AscWriter:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.lines: list[str] = []
        self.sections = {"axon": 0, "basal": 0, "apical": 0}

    @staticmethod
    def _point(p, d, indent: str) -> str:
        return f"{indent}({p[0]:8.2f} {p[1]:8.2f} {p[2]:8.2f} {d:6.2f})"

    def soma(self, radius: float, points: int = 16):
        self.lines += ['("CellBody"', "  (Color Red)", "  (CellBody)"]
        for a in np.linspace(0, 2 * np.pi, points, endpoint=False):
            r = radius * self.rng.uniform(0.9, 1.1)
            self.lines.append(self._point((r * np.cos(a), r * np.sin(a), 0.0), 0.0, "  "))
        self.lines += [")", ""]

    def tree(self, kind: str, start, direction, depth: int, diameter: float,
             length: float, points: int):
        name, color = _KINDS[kind]
        self.lines += [f"( (Color {color})", f"  ({name})"]
        self._branch(kind, np.asarray(start, float), np.asarray(direction, float), depth,
                     diameter, length, points, "  ")
        self.lines += [")", ""]

    def _branch(self, kind, start, direction, depth, diameter, length, points, indent):
        self.sections[kind] += 1
        direction = direction / np.linalg.norm(direction)
        position = start
        for _ in range(points):
            jitter = self.rng.normal(0.0, 0.15, 3)
            direction = direction + jitter
            direction /= np.linalg.norm(direction)
            position = position + direction * length / points
            self.lines.append(self._point(position, diameter, indent))
        if depth > 0:
            self.lines.append(f"{indent}(")
            for side, sign in enumerate((-1.0, 1.0)):
                turn = np.cross(direction, [0.0, 0.0, 1.0]) * 0.6 * sign
                child = direction + turn + self.rng.normal(0.0, 0.1, 3)
                self._branch(kind, position, child, depth - 1, max(diameter * 0.75, 0.3),
                             length * self.rng.uniform(0.7, 1.0), points, indent + "  ")
                if side == 0:
                    self.lines.append(f"{indent}|")
            self.lines.append(f"{indent})")

    def write(self, path: Path):
        path.write_text("\n".join(self.lines) + "\n")


def write_detailed_asc(path: Path, rng: np.random.Generator, depth: int = 4,
                       points_per_section: int = 12) -> dict:
    """A pyramidal-like cell: soma contour, four basal trees and one apical tree of `depth`
    branchings, an axon of three branchings; returns the section count of each kind."""
    writer = _AscWriter(rng)
    radius = rng.uniform(7.0, 10.0)
    writer.soma(radius)
    for angle in np.linspace(0, 2 * np.pi, 4, endpoint=False) + rng.uniform(0, 1):
        direction = (np.cos(angle), -0.3 + 0.2 * np.sin(angle), rng.uniform(-0.2, 0.2))
        start = (radius * np.cos(angle), radius * np.sin(angle) * 0.3, 0.0)
        writer.tree("basal", start, direction, depth - 1, 1.5, rng.uniform(60, 90),
                    points_per_section)
    writer.tree("apical", (0.0, radius, 0.0), (0.0, 1.0, 0.05), depth, 3.0,
                rng.uniform(150, 200), points_per_section)
    writer.tree("axon", (0.0, -radius, 0.0), (0.0, -1.0, 0.0), 3, 1.0, rng.uniform(80, 120),
                points_per_section)
    writer.write(Path(path))
    return dict(writer.sections)
