"""samna_config.json: the layout samna reads, and the codes, CAM and routes round-tripping."""

import json

import numpy as np
import pytest

from neurodamus.export.dynapse.bias_codes import code_current, core_bias_codes
from neurodamus.export.dynapse.cli import main
from neurodamus.export.dynapse.errors import ExportConfigError
from neurodamus.export.dynapse.samna_config import (
    SAMNA_JSON_NAME,
    read_samna_config,
    write_samna_config,
)
from neurodamus.export.dynapse.samna_layout import CORE_PARAMETER_NAMES
from neurodamus.export.dynapse.testing import example_spec, two_chip_config, write_network


@pytest.fixture(scope="module")
def two_chip_export(tmp_path_factory):
    """The example network on two chips (an exc core on chip 1), written once."""
    directory = tmp_path_factory.mktemp("samna")
    config, _ = two_chip_config(directory)
    codes = core_bias_codes(config)
    path = write_samna_config(config, directory, codes)
    return config, codes, path


def test_layout_is_samnas_configuration_complete_in_every_field(two_chip_export):
    config, codes, path = two_chip_export
    document = json.loads(path.read_text())
    chips = document["value0"]["chips"]
    assert len(chips) == 2
    for chip in chips:
        assert list(chip) == [
            "cores", "globalParameters", "sharedParameters01", "sharedParameters23",
            "sadcGroupParameters01", "sadcGroupParameters23", "sadcEnables", "dvsIf", "bioamps",
            "enablePg0ReferenceMonitor", "enablePg1ReferenceMonitor", "paramGen0Powerdown",
            "paramGen1Powerdown"]
        assert len(chip["sadcEnables"]) == 8 and not any(chip["sadcEnables"].values())
        assert {"dvsMode", "pixelDestinations", "davisReqAckBugfixDelay_ns"} <= set(chip["dvsIf"])
        assert {"commonParameters", "channelParameters", "route"} <= set(chip["bioamps"])
        assert list(chip["cores"]) == [f"value{k}" for k in range(4)]
        for core in chip["cores"].values():         # used or not, every core is complete
            assert list(core) == [
                "neurons", "neuronMonitoringOn", "monitoredNeuron", "parameters", "sadcEnables",
                "enableSyawStdbufAn", "enablePulseExtenderMonitor1",
                "enablePulseExtenderMonitor2", "_id", "_cookie"]
            assert len(core["sadcEnables"]) == 14
            assert [p["key"] for p in core["parameters"]] == list(CORE_PARAMETER_NAMES)
            for entry in core["parameters"]:
                assert list(entry["value"]) == ["type", "coarseValue", "fineValue", "_address",
                                                "_cookie", "_initialType", "_switchableType"]
                assert entry["value"]["type"] == ord(entry["key"][-1])
                assert entry["value"]["_initialType"] == (1 if entry["key"][-1] == "N" else 0)
            assert len(core["neurons"]) == 256
            for neuron in core["neurons"].values():
                assert len(neuron["synapses"]) == 64 and len(neuron["destinations"]) == 4
                assert sum(key.startswith("latch") for key in neuron) == 14
            neuron = core["neurons"]["value0"]
            assert set(neuron["synapses"]["value0"]) == {
                "dendrite", "stp", "weight", "preciseDelay", "mismatchedDelay", "tag"}
            assert set(neuron["destinations"]["value0"]) == {"core", "xHop", "yHop", "tag"}
    used = {p["key"]: p["value"] for p in chips[0]["cores"]["value0"]["parameters"]}
    assert len(CORE_PARAMETER_NAMES) == 49 and set(codes[0]) < set(used)
    for name in set(used) - set(codes[0]):                    # not computed: (0, 0)
        assert (used[name]["coarseValue"], used[name]["fineValue"]) == (0, 0)
    unused = chips[0]["cores"]["value1"]
    assert all(p["value"]["coarseValue"] == p["value"]["fineValue"] == 0
               for p in unused["parameters"])
    assert not any(s["dendrite"] for n in unused["neurons"].values()
                   for s in n["synapses"].values())


def test_codes_round_trip_and_reproduce_their_currents(two_chip_export):
    config, codes, path = two_chip_export
    back = read_samna_config(path)
    assert set(back.parameters) == {(chip, core) for chip in range(2) for core in range(4)}
    for row, (chip, core) in enumerate(zip(config.core_chip, config.core_index)):
        programmed = back.parameters[(int(chip), int(core))]
        assert list(programmed) == list(CORE_PARAMETER_NAMES)
        for name, (kind, coarse, fine) in programmed.items():
            if name not in codes[row]:
                continue
            code = codes[row][name]
            assert (kind, coarse, fine) == (code.type, code.coarse, code.fine)
            assert code_current(name, coarse, fine) == code.current


def test_cam_routes_and_dc_latch_round_trip(two_chip_export):
    config, _, path = two_chip_export
    back = read_samna_config(path)
    target = config.cam_neuron
    expected_cam = np.column_stack([
        config.neuron_chip[target], config.neuron_core[target], config.neuron_address[target],
        config.cam_slot, config.cam_dendrite, config.cam_mask, config.cam_tag])
    assert np.array_equal(np.unique(back.cam, axis=0), np.unique(expected_cam, axis=0))
    assert len(back.cam) == len(config.cam_neuron)
    source = config.dest_neuron
    expected_dest = np.column_stack([
        config.neuron_chip[source], config.neuron_core[source], config.neuron_address[source],
        config.dest_slot, config.dest_core_mask, config.dest_x_hop, config.dest_y_hop,
        config.dest_tag])
    assert np.array_equal(np.unique(back.destinations, axis=0), np.unique(expected_dest, axis=0))
    monitor = back.destinations[back.destinations[:, 3] == 0]
    assert len(monitor) == len(config.neuron_node_id)
    np.testing.assert_array_equal(monitor[:, 4:7], [[0b1111, -7, -7]] * len(monitor))
    assert np.any(back.destinations[back.destinations[:, 3] > 0, 5] != 0)  # chip to chip
    dc = config.core_currents[config.neuron_core_row, 7] > 0  # Idc
    for i in range(len(config.neuron_node_id)):
        key = (int(config.neuron_chip[i]), int(config.neuron_core[i]),
               int(config.neuron_address[i]))
        assert back.dc_latch[key] == bool(dc[i])
    assert sum(back.dc_latch.values()) == int(dc.sum()) > 0


def test_a_file_that_is_not_a_samna_configuration_is_named(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ExportConfigError, match="other.json"):
        read_samna_config(path)


def test_command_writes_the_samna_file_and_the_bias_codes(tmp_path, capsys):
    sim_config = write_network(tmp_path / "circuit", example_spec())
    assert main([str(sim_config), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert f"samna configuration: {tmp_path / 'out' / SAMNA_JSON_NAME}" in printed
    assert "worst rounding error" in printed
    document = json.loads((tmp_path / "out" / "dynapse.json").read_text())
    leak = document["cores"][0]["bias_codes"]["SOIF_LEAK_N"]
    assert leak["type"] == "N" and 0 <= leak["coarse"] <= 5 and 0 <= leak["fine"] <= 255
    assert leak["requested_A"] == pytest.approx(document["cores"][0]["currents_A"]["Itau_mem"])
    assert abs(leak["coded_A"] / leak["requested_A"] - 1) == pytest.approx(
        abs(leak["relative_error"]))
    assert read_samna_config(tmp_path / "out" / SAMNA_JSON_NAME).parameters
