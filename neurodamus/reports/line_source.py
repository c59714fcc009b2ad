"""The line-source approximation of the extracellular potential, for the `extracellular`
report (extracellular.py): where each segment of a cell lies, and the potential at an
electrode of a unit current in each segment.

Physics (line-source approximation, Holt & Koch 1999): the medium is infinite, homogeneous
and purely resistive with conductivity SIGMA. Each segment is a straight line from p0 to
p1 (its ends along the section's 3-D points, placed in the circuit as the e-field stimulus
places them: turned by the node's rotation about the soma centre, moved to the node's
position) carrying its membrane current I (NEURON's fast i_membrane_, nA) spread evenly.
At an electrode at perpendicular distance d from the segment's axis and at distance h
along it from the segment's middle, a segment of length L contributes

    V = I / (4 pi SIGMA L) * ln((h + L/2 + sqrt((h + L/2)^2 + d^2))
                                / (h - L/2 + sqrt((h - L/2)^2 + d^2)))

(h taken as |h|, the formula being even in h). With `minimum_distance` r, an electrode whose
projection comes closer than r to the segment (h - L/2 < r) sees d at least r, which keeps
an electrode inside a segment's radius finite. nA / (S/m * um) = mV: the file is in mV.
"""

import math

import numpy as np

from ..errors import CircuitError
from ..stimuli.efield import local_position

SIGMA = 0.3  # S/m: extracellular conductivity (bmtk's value)


def _sections(cell) -> list:
    """All the cell's sections: its template's `all` list where there is one (as the e-field
    stimulus takes them), else the cell's sections."""
    every = getattr(getattr(cell, "hoc", None), "all", None)
    return list(every) if every is not None else list(cell.sections)


def segment_geometry(cell):
    """(segments, p0, p1, diameters) of every segment of a cell: p0 and p1 [n x 3] are each
    segment's ends in circuit coordinates (um), along the section's 3-D points."""
    segments, starts, ends, diameters = [], [], [], []
    for section in _sections(cell):
        count = int(section.n3d())
        if count == 0:
            raise CircuitError(f"section {section.name()} of node {cell.node_id} has no 3-D "
                               "points, which the extracellular report needs",
                               population=cell.population)
        arc = np.array([section.arc3d(i) for i in range(count)])
        points = np.array([[section.x3d(i), section.y3d(i), section.z3d(i)]
                           for i in range(count)])
        nseg = int(section.nseg)
        where = np.linspace(0.0, 1.0, nseg + 1) * arc[-1]
        at = np.column_stack([np.interp(where, arc, points[:, axis]) for axis in range(3)])
        starts.append(at[:-1])
        ends.append(at[1:])
        for segment in section:
            segments.append(segment)
            diameters.append(float(segment.diam))
    rotation = np.asarray(getattr(cell, "rotation", np.eye(3)), float)
    position = np.asarray(getattr(cell, "position", np.zeros(3)), float)
    centre = local_position(cell.soma(0.5))

    def place(local):
        return (np.concatenate(local) - centre) @ rotation.T + position

    return segments, place(starts), place(ends), np.asarray(diameters)


def transfer_resistances(electrodes, p0, p1, minimum=None) -> np.ndarray:
    """[electrodes x segments] mV per nA: the line-source potential at each electrode of a
    unit current in each segment (see the module docstring). `minimum`: None, or the
    minimum distance (um) per segment or for all."""
    electrodes, p0, p1 = (np.asarray(a, float).reshape(-1, 3) for a in (electrodes, p0, p1))
    axis = p1 - p0
    length = np.linalg.norm(axis, axis=1)
    line = length > 1e-9 * (1.0 + np.abs(p0).max(initial=0.0))
    direction = np.zeros_like(axis)
    direction[line] = axis[line] / length[line, None]
    relative = electrodes[:, None, :] - (p0 + p1)[None, :, :] / 2  # [m, n, 3]
    squared = np.einsum("mnk,mnk->mn", relative, relative)
    along = np.abs(np.einsum("mnk,nk->mn", relative, direction))
    perpendicular = np.maximum(squared - along ** 2, 0.0)
    half = length[None, :] / 2
    upper, lower = along + half, along - half
    if minimum is not None:
        floor = np.broadcast_to(np.asarray(minimum, float), length.shape)[None, :]
        near = lower < floor
        perpendicular = np.where(near, np.maximum(perpendicular, floor ** 2), perpendicular)
        squared = np.where(near, np.maximum(squared, floor ** 2), squared)
    upper_root = np.sqrt(upper ** 2 + perpendicular)
    lower_root = np.sqrt(lower ** 2 + perpendicular)
    with np.errstate(divide="ignore", invalid="ignore"):
        numerator = upper + upper_root
        # Beside the segment (lower < 0) lower + lower_root cancels: use its conjugate form.
        denominator = np.where(lower >= 0, lower + lower_root,
                               perpendicular / (lower_root - lower))
        values = np.where(line[None, :], np.log(numerator / denominator)
                          / np.where(line, length, 1.0)[None, :], 1.0 / np.sqrt(squared))
    return values / (4 * math.pi * SIGMA)
