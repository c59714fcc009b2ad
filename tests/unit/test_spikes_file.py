"""The spike file is strict SONATA: libsonata's SpikeReader reads it, with the enum sorting."""

import h5py
import libsonata
import numpy as np
import pytest

from neurodamus.reports import read_spikes_by_population, sort_spikes, write_spikes


def test_round_trip_through_libsonata(tmp_path):
    times = np.array([5.0, 1.0, 3.0, 1.0])
    ids = np.array([2, 7, 1, 3])
    path = tmp_path / "out.h5"
    write_spikes(path, {"exc": (times, ids), "inh": (np.zeros(0), np.zeros(0, int))})
    reader = libsonata.SpikeReader(str(path))
    assert sorted(reader.get_population_names()) == ["exc", "inh"]
    assert reader["exc"].sorting == "by_time"
    assert reader["exc"].get() == [(3, 1.0), (7, 1.0), (1, 3.0), (2, 5.0)]  # ties by node id
    assert reader["inh"].get() == []
    with h5py.File(path) as f:
        assert h5py.check_enum_dtype(f["spikes/exc"].attrs.get_id("sorting").dtype) is not None
        assert f["spikes/exc/timestamps"].attrs["units"] == "ms"
    times_read, ids_read = read_spikes_by_population(path)["exc"]
    np.testing.assert_array_equal(times_read, [1.0, 1.0, 3.0, 5.0])


@pytest.mark.parametrize("order, expected_ids", [
    ("by_time", [3, 7, 1, 2]), ("by_id", [1, 2, 3, 7]), ("none", [2, 7, 1, 3])])
def test_sort_orders(order, expected_ids):
    _, ids = sort_spikes([5.0, 1.0, 3.0, 1.0], [2, 7, 1, 3], order)
    assert ids.tolist() == expected_ids


def test_no_partial_file_left(tmp_path):
    write_spikes(tmp_path / "out.h5", {"exc": (np.array([1.0]), np.array([0]))})
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5"]
