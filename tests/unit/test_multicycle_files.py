"""The files of the multi-cycle build (multicycle.py): the cycles' cell lists merged into one
files.dat as CoreNEURON reads it, CoreNEURON's out.dat read back, each rank's cells split."""

import numpy as np

from neurodamus.multicycle import cycle_parts, merge_file_lists, read_spikes


def test_cycle_lists_merged_in_cycle_order(tmp_path):
    (tmp_path / "files_0.dat").write_text("1.8\n2\n0\n7\n")
    (tmp_path / "files_1.dat").write_text("1.8\n1\n3\n")
    merge_file_lists(tmp_path, 2)
    assert (tmp_path / "files.dat").read_text() == "1.8\n3\n0\n7\n3\n"


def test_spikes_read_back_without_artificial_cells(tmp_path):
    (tmp_path / "out.dat").write_text("1.625\t0\n7.1\t12\n7.1\t-3\n\n12.575\t2\n")
    times, gids = read_spikes(tmp_path / "out.dat")
    np.testing.assert_array_equal(times, [1.625, 7.1, 12.575])
    np.testing.assert_array_equal(gids, [0, 12, 2])
    assert read_spikes(tmp_path / "missing.dat")[0].size == 0  # a run without spikes


def test_each_rank_splits_its_cells_round_robin():
    parts = cycle_parts([9, 1, 5, 3, 7], 2)
    assert [p.tolist() for p in parts] == [[1, 5, 9], [3, 7]]
    assert sorted(np.concatenate(cycle_parts(np.arange(10), 3)).tolist()) == list(range(10))
