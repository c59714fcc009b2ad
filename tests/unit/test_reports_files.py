"""Part files and their assembly into the final report, without NEURON: two "ranks" hold
interleaved nodes of two populations; the final file must hold every value in node-id
order, in the strict SONATA layout, read back by libsonata."""

import h5py
import libsonata
import numpy as np
import pytest

from neurodamus.reports.assemble import ReportHeader, assemble_report
from neurodamus.reports.buffer import FrameBuffer, PartFile, frames_per_buffer
from neurodamus.reports.elements import CellElements
from neurodamus.reports.table import ElementTable

FRAMES = 23
# rank -> [(population, node id, element ids)], nodes interleaved as round-robin leaves them
LAYOUT = {
    0: [("exc", 0, [0, 5]), ("exc", 2, [0]), ("inh", 1, [4, 1, 9])],
    1: [("exc", 1, [3]), ("exc", 3, [0, 1, 2]), ("inh", 0, [0])],
}


def value(population, node, element, frame):
    """A value that says where it belongs, exact in float32."""
    return (1000.0 if population == "inh" else 0.0) + 100 * node + 10 * element + frame / 4


def write_part(path, rank, capacity, frames=FRAMES):
    cells = [CellElements.one_term_each(pop, node, ids, [None] * len(ids))
             for pop, node, ids in LAYOUT[rank]]
    table = ElementTable.from_cells(cells, ["exc", "inh"])
    part = PartFile(path, table, FRAMES)
    buffer = FrameBuffer(table, capacity, part)
    columns = [(pop, node, element) for pop, node, ids in sorted(
        LAYOUT[rank], key=lambda c: (c[0] != "exc", c[1])) for element in ids]
    for frame in range(frames):
        buffer.append(np.array([value(p, n, e, frame) for p, n, e in columns]))
    buffer.flush()
    part.close()
    return path


def test_parts_assemble_into_one_sorted_file(tmp_path):
    parts = [write_part(tmp_path / ".r.h5.rank0.part", 0, capacity=5),
             write_part(tmp_path / ".r.h5.rank1.part", 1, capacity=7)]
    header = ReportHeader(units="mV", start=2.0, end=4.3, dt=0.1, frame_count=FRAMES)
    assemble_report(parts, tmp_path / "r.h5", header, buffer_bytes=64)  # a few frames per block
    assert [p.name for p in tmp_path.iterdir()] == ["r.h5"]  # parts gone, no partial file

    with h5py.File(tmp_path / "r.h5") as f:
        assert f.attrs["magic"] == 0x0A7A
        exc = f["report/exc"]
        assert exc["data"].dtype == np.float32 and exc["data"].attrs["units"] == "mV"
        assert exc["mapping/node_ids"].dtype == np.uint64
        assert exc["mapping/index_pointers"].dtype == np.uint64
        assert exc["mapping/element_ids"].dtype == np.uint32
        np.testing.assert_array_equal(exc["mapping/node_ids"], [0, 1, 2, 3])
        np.testing.assert_array_equal(exc["mapping/index_pointers"], [0, 2, 3, 4, 7])  # N + 1
        np.testing.assert_array_equal(exc["mapping/element_ids"], [0, 5, 3, 0, 0, 1, 2])
        np.testing.assert_array_equal(exc["mapping/time"], [2.0, 4.3, 0.1])
        assert exc["mapping/time"].attrs["units"] == "ms"
        np.testing.assert_array_equal(f["report/inh/mapping/node_ids"], [0, 1])

    reader = libsonata.ElementReportReader(str(tmp_path / "r.h5"))
    for population in ("exc", "inh"):
        frames = reader[population].get()
        data = np.asarray(frames.data)
        assert data.shape[0] == FRAMES
        for column, (node, element) in enumerate(frames.ids):
            expected = [value(population, int(node), int(element), k) for k in range(FRAMES)]
            np.testing.assert_array_equal(data[:, column], np.array(expected, np.float32))
    node_3 = reader["exc"].get(node_ids=[3])
    assert [int(e) for _, e in node_3.ids] == [0, 1, 2]


def test_incomplete_part_gives_no_file(tmp_path):
    parts = [write_part(tmp_path / ".r.h5.rank0.part", 0, capacity=5),
             write_part(tmp_path / ".r.h5.rank1.part", 1, capacity=5, frames=FRAMES - 3)]
    header = ReportHeader(units="mV", start=0.0, end=2.3, dt=0.1, frame_count=FRAMES)
    with pytest.raises(RuntimeError, match=r"rank 1 wrote 20 of 23 frames"):
        assemble_report(parts, tmp_path / "r.h5", header, buffer_bytes=1 << 20)
    assert not (tmp_path / "r.h5").exists() and not (tmp_path / ".r.h5.partial").exists()


@pytest.mark.parametrize("buffer_bytes, columns, frames, fit", [
    (8 << 20, 2886, 100000, 726),  # 8 MB of 2886 float32 columns
    (8 << 20, 10, 50, 50),  # never more than the report has
    (100, 1000, 50, 1),  # at least one frame, however small the buffer
])
def test_buffer_holds_what_fits(buffer_bytes, columns, frames, fit):
    assert frames_per_buffer(buffer_bytes, columns, frames) == fit
