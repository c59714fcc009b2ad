"""Resolving a node's `morphology` attribute to a file NEURON's Import3d can read.

Files are looked up as the reference simulator does: .asc in the `neurolucida-asc`
alternate directory, else .h5 in `h5v1`, else .swc in morphologies_dir. Import3d
has no HDF5 reader, so .h5 morphologies are converted to .swc in a cache directory.
"""

import hashlib
import tempfile
from pathlib import Path

import numpy as np

from ..errors import CircuitError


def _candidates(population_settings, name: str):
    """The reference simulator's preference: the neurolucida-asc alternate, else h5v1, else
    morphologies_dir (swc); then any other extension found in those directories."""
    alternates = population_settings.alternate_morphologies
    morph_dir = population_settings.morphologies_dir
    if "neurolucida-asc" in alternates:
        yield alternates["neurolucida-asc"] / f"{name}.asc"
    if "h5v1" in alternates:
        yield alternates["h5v1"] / f"{name}.h5"
    if morph_dir:
        yield morph_dir / f"{name}.swc"
        yield morph_dir / f"{name}.asc"
        yield morph_dir / f"{name}.h5"


def find_morphology(population_settings, name: str) -> Path:
    tried = list(_candidates(population_settings, name))
    for path in tried:
        if path.is_file():
            return path
    raise CircuitError(f"morphology '{name}' not found (looked for {', '.join(map(str, tried))})",
                       population=population_settings.name)


def readable_morphology(path: Path, cache_dir: Path | None = None) -> Path:
    """The path itself for .swc/.asc; a converted .swc for an HDF5 (h5v1) morphology."""
    if path.suffix.lower() != ".h5":
        return path
    cache_dir = Path(cache_dir or tempfile.gettempdir()) / "neurodamus-morphologies"
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    converted = cache_dir / f"{path.stem}-{digest}.swc"
    if not converted.exists():
        _h5_to_swc(path, converted)
    return converted


def _h5_to_swc(source: Path, target: Path):
    """h5v1 layout: /points [x y z diameter], /structure [first point, type, parent section]."""
    import h5py

    with h5py.File(source, "r") as f:
        points = np.asarray(f["points"], float)
        structure = np.asarray(f["structure"], np.int64)
    rows, last_sample_of_section = [], {}
    ends = list(structure[1:, 0]) + [len(points)]
    for section, ((first, kind, parent), end) in enumerate(zip(structure, ends)):
        parent_sample = last_sample_of_section.get(parent, -1) if parent >= 0 else -1
        if kind == 1:  # soma: one averaged sphere sample
            centre = points[first:end, :3].mean(axis=0)
            radius = max(np.linalg.norm(points[first:end, :3] - centre, axis=1).mean(),
                         points[first:end, 3].mean() / 2)
            rows.append((len(rows) + 1, 1, *centre, radius, -1))
        else:
            # A child of a neurite section repeats its parent's last point; skip it in SWC.
            # (Sections on the soma start with their own first point.)
            skip = 1 if parent >= 0 and structure[parent][1] != 1 and end - first > 1 else 0
            for point in points[first + skip:end]:
                rows.append((len(rows) + 1, int(kind), *point[:3], point[3] / 2,
                             parent_sample if parent_sample > 0 else 1))
                parent_sample = len(rows)
        last_sample_of_section[section] = len(rows)
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(f"{i} {t} {x} {y} {z} {r} {p}\n" for i, t, x, y, z, r, p in rows))
    tmp.rename(target)
