"""Resolving a node's `morphology` attribute to a file NEURON's Import3d can read.

Files are looked up as the reference simulator does: .asc in the `neurolucida-asc`
alternate directory, else .h5 in `h5v1`, else .swc in morphologies_dir. Import3d
has no HDF5 reader, so .h5 morphologies are converted (MorphIO) to .asc in a cache directory.
"""

import hashlib
import os
import tempfile
from pathlib import Path

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
    """The path itself for .swc/.asc; for an HDF5 (h5v1) morphology, the same morphology
    written as Neurolucida .asc by MorphIO (cached by content), which keeps its soma contour."""
    if path.suffix.lower() != ".h5":
        return path
    cache_dir = Path(cache_dir or tempfile.gettempdir()) / "neurodamus-morphologies"
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    converted = cache_dir / f"{path.stem}-{digest}.asc"
    if not converted.exists():
        _convert(path, converted)
    return converted


def _convert(source: Path, target: Path):
    import morphio
    import morphio.mut

    try:
        morphology = morphio.mut.Morphology(str(source))
    except morphio.MorphioError as error:
        raise CircuitError(f"morphology {source} cannot be read: {error}") from None
    partial = target.with_name(f".{target.stem}.{os.getpid()}.asc")  # MorphIO picks the format
    morphology.write(str(partial))                                    # by the extension
    os.replace(partial, target)
