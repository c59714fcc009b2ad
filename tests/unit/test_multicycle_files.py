"""The files of the multi-cycle build (multicycle.py): the cycles' cell lists merged into one
files.dat as CoreNEURON reads it, CoreNEURON's out.dat read back, each rank's cells split."""

from types import SimpleNamespace

import numpy as np
import pytest

from neurodamus.errors import ConfigError
from neurodamus.multicycle import check_multicycle, cycle_parts, merge_file_lists, read_spikes


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


def _settings(reports=(), inputs=(), edges=()):
    return SimpleNamespace(reports=reports, inputs=inputs, config_file="sim.json",
                           circuit=SimpleNamespace(edge_populations=edges))


def _options(steps, save_dir=None):
    return SimpleNamespace(modelbuilding_steps=steps, save_dir=save_dir, restore_dir=None,
                           dump_cell_state=())


def test_what_the_offline_path_cannot_carry_is_refused_naming_it():
    report = SimpleNamespace(name="soma")
    replay = SimpleNamespace(name="replay", module="synapse_replay")
    gap = SimpleNamespace(name="gj", type="electrical")
    for settings, key in ((_settings(reports=(report,)), "reports.soma"),
                          (_settings(inputs=(replay,)), "inputs.replay.module"),
                          (_settings(edges=(gap,)), "networks.edges")):
        with pytest.raises(ConfigError, match=f"key '{key}'"):
            check_multicycle(settings, _options(2), "CORENEURON")
        check_multicycle(settings, _options(2), "NEURON")  # ignored there: nothing refused
    with pytest.raises(ConfigError, match="--save is not possible"):
        check_multicycle(_settings(), _options(2, save_dir="ck"), "CORENEURON")
    with pytest.raises(ConfigError, match="must be at least 1"):
        check_multicycle(_settings(), _options(0), "NEURON")
    check_multicycle(_settings(), _options(3), "CORENEURON")  # spikes only: accepted
