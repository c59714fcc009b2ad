"""HDF5 (h5v1) morphologies are converted (MorphIO) to Neurolucida .asc for Import3d: same
tree, same lengths."""

import h5py
import numpy as np
import pytest

from neurodamus.cells.morphology import readable_morphology


def write_h5v1(path):
    """Soma contour of radius 5 um; a basal trunk of 30 um splitting into two 20 um branches."""
    soma = [[5 * np.cos(a), 5 * np.sin(a), 0, 0] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]
    trunk = [[5, 0, 0, 2], [20, 0, 0, 2], [35, 0, 0, 2]]
    left = [[35, 0, 0, 1], [35, 20, 0, 1]]   # first point repeats the trunk's last
    right = [[35, 0, 0, 1], [35, -20, 0, 1]]
    points = np.array(soma + trunk + left + right, float)
    structure = np.array([[0, 1, -1], [8, 3, 0], [11, 3, 1], [13, 3, 1]], np.int32)
    with h5py.File(path, "w") as f:
        f["points"] = points
        f["structure"] = structure


def test_h5_morphology_loads_with_the_same_tree(tmp_path):
    from neuron import h

    source = tmp_path / "cell.h5"
    write_h5v1(source)
    swc = readable_morphology(source, cache_dir=tmp_path / "cache")
    assert swc.suffix == ".asc" and swc.parent != source.parent
    assert readable_morphology(source, cache_dir=tmp_path / "cache") == swc  # cached
    h.load_file("import3d.hoc")
    existing = set(h.allsec())  # by identity: an earlier test may have left same-named sections
    reader = h.Import3d_Neurolucida3()
    reader.quiet = 1
    reader.input(str(swc))
    h.Import3d_GUI(reader, 0).instantiate(None)
    sections = [s for s in h.allsec() if s not in existing]
    dendrites = sorted((s for s in sections if s.name().startswith("dend")), key=lambda s: s.name())
    somas = [s for s in sections if s.name().startswith("soma")]
    assert len(somas) == 1 and len(dendrites) == 3
    assert sorted(round(s.L, 6) for s in dendrites) == pytest.approx([20.0, 20.0, 30.0])
    trunk = next(s for s in dendrites if abs(s.L - 30) < 1e-6)
    children = [s for s in dendrites if s is not trunk]
    assert all(h.SectionRef(sec=c).parent == trunk for c in children)
    for section in sections:
        h.delete_section(sec=section)
