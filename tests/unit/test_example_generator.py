"""The committed example circuit is exactly what the generator writes (regenerate and diff)."""

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neurodamus.testing.example import build_example

COMMITTED = Path(__file__).resolve().parents[2] / "configs" / "example"


def _h5_contents(path):
    out: dict[str, Any] = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def test_committed_example_matches_generator(tmp_path):
    build_example(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*")
                       if p.is_file() and "output" not in p.parts)
    assert generated == committed
    for relative in generated:
        new, old = tmp_path / relative, COMMITTED / relative
        if relative.suffix == ".h5":
            a, b = _h5_contents(new), _h5_contents(old)
            assert a.keys() == b.keys()
            for key in a:
                assert np.array_equal(a[key], b[key]), (relative, key)
        elif relative.suffix == ".json":
            assert json.loads(new.read_text()) == json.loads(old.read_text()), relative
        else:
            assert new.read_text() == old.read_text(), relative
