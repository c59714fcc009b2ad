"""The space check's arithmetic and messages (preflight.py), on a pretend free space."""

from pathlib import Path

import pytest

from neurodamus.errors import ConfigError, NeurodamusError
from neurodamus.preflight import SpaceNeed, check_save_target, check_space, human, report_need


def test_a_report_counts_its_parts_beside_the_assembled_file(tmp_path):
    need = report_need("v", tmp_path / "v.h5", frame_count=1000, element_count=50)
    assert (need.size, need.peak, need.key) == (200_000, 200_000, "reports.v")
    check_space([need], free=lambda path: 400_000)
    with pytest.raises(ConfigError) as error:
        check_space([need], config_file=Path("sim.json"), free=lambda path: 399_999)
    assert str(error.value).startswith("file sim.json, key 'reports.v': report 'v' (1000 "
                                       "frames x 50 elements x 4 bytes = 200.0 kB")
    assert str(error.value).endswith("needs 400.0 kB in " + str(tmp_path / "v.h5")
                                     + ", but only 400.0 kB is free there")


def test_needs_on_one_file_system_add_up(tmp_path):
    needs = [SpaceNeed("a", tmp_path / "a", 600), SpaceNeed("b", tmp_path / "sub" / "b", 500)]
    with pytest.raises(NeurodamusError, match="a needs 600 bytes .* \\(all outputs there: "
                                              "1.1 kB\\), but only 1.0 kB is free"):
        check_space(needs, free=lambda path: 1000)


def test_save_target_must_be_a_folder_we_may_write(tmp_path):
    check_save_target(tmp_path / "new" / "deeper")
    (tmp_path / "file").write_text("")
    with pytest.raises(NeurodamusError, match="is a file, not a folder"):
        check_save_target(tmp_path / "file")
    with pytest.raises(NeurodamusError, match="is a file, not a folder"):
        check_save_target(tmp_path / "file" / "below")


def test_human_sizes():
    assert [human(x) for x in (999, 1000, 2.5e12, 4.7e16)] == ["999 bytes", "1.0 kB", "2.5 TB",
                                                             "47.0 PB"]
