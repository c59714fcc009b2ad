"""apply_export sets every value of dynapse.json onto a samna-like configuration, and nothing else.

samna cannot be installed here, so the configuration is a small fake with samna's attribute API
as Rockpool and published board code use it: chips[c].cores[k] with `parameters[name]` objects
(coarse_value, fine_value, plus an internal `_address` that must survive) and `neurons[n]` whose
`synapses` and `destinations` return copies (as samna's bindings do), so only an assignment of
the whole list changes them; a dendrite is an enum class built from its code.
"""

import enum
import json

import pytest

from neurodamus.export.dynapse import apply, writer
from neurodamus.export.dynapse.apply import apply_export
from neurodamus.export.dynapse.errors import ExportConfigError
from neurodamus.export.dynapse.samna_layout import CORE_PARAMETER_NAMES
from neurodamus.export.dynapse.testing import two_chip_config
from neurodamus.export.dynapse.writer import write_export


class Dendrite(enum.IntEnum):
    none, shunt, nmda, gaba, ampa = 0, 128, 256, 512, 1024


class Parameter:
    def __init__(self, name):
        self.type, self.coarse_value, self.fine_value = name[-1], 3, 100   # not (0, 0)
        self._address = hash(name) & 0xFFFF


class Synapse:
    def __init__(self):
        self.dendrite, self.weight, self.tag = Dendrite.nmda, [True] * 4, 7     # stale content
        self.stp = self.precise_delay = self.mismatched_delay = True


class Destination:
    def __init__(self):
        self.core, self.x_hop, self.y_hop, self.tag = [True] * 4, 1, 1, 9


class Neuron:
    def __init__(self):
        self._synapses = [Synapse() for _ in range(64)]
        self._destinations = [Destination() for _ in range(4)]
        self.latch_so_dc = True

    synapses = property(lambda self: list(self._synapses),
                        lambda self, value: setattr(self, "_synapses", list(value)))
    destinations = property(lambda self: list(self._destinations),
                            lambda self, value: setattr(self, "_destinations", list(value)))


class Core:
    def __init__(self):
        self.parameters = {name: Parameter(name) for name in CORE_PARAMETER_NAMES}
        self.neurons = [Neuron() for _ in range(256)]


class Chip:
    def __init__(self):
        self.cores = [Core() for _ in range(4)]


class Configuration:
    def __init__(self, chips=2):
        self.chips = [Chip() for _ in range(chips)]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    directory = tmp_path_factory.mktemp("apply")
    config, notes = two_chip_config(directory)
    json_path, _ = write_export(config, directory / "out", notes)
    return json_path, json.loads(json_path.read_text())


def test_every_value_of_the_export_is_set(export):
    json_path, document = export
    configuration = Configuration()
    assert apply_export(json_path.parent, configuration) is configuration
    for core in document["cores"]:
        target = configuration.chips[core["chip"]].cores[core["core"]]
        for name, code in core["bias_codes"].items():
            assert (target.parameters[name].coarse_value,
                    target.parameters[name].fine_value) == (code["coarse"], code["fine"])
            assert target.parameters[name]._address == hash(name) & 0xFFFF
        dc = core["bias_codes"]["SOIF_DC_P"]["requested_A"] > 0
        for address in range(256):
            assert target.neurons[address].latch_so_dc == (dc and any(
                n["neuron"] == address for n in document["neurons"]
                if (n["chip"], n["core"]) == (core["chip"], core["core"])))
    for neuron in document["neurons"]:
        target = configuration.chips[neuron["chip"]].cores[neuron["core"]].neurons[neuron["neuron"]]
        used = {entry["slot"]: entry for entry in neuron["cam"]}
        for slot, synapse in enumerate(target.synapses):
            entry = used.get(slot, {"dendrite_code": 0, "mask": 0, "tag": 0})
            assert type(synapse.dendrite) is Dendrite
            assert synapse.dendrite == entry["dendrite_code"]
            assert synapse.weight == [bool(entry["mask"] >> k & 1) for k in range(4)]
            assert synapse.tag == entry["tag"] and not synapse.stp
        routes = {entry["slot"]: entry for entry in neuron["destinations"]}
        assert routes[0]["monitor"] and routes[0]["core_mask"] == 0b1111
        for slot, destination in enumerate(target.destinations):
            entry = routes.get(slot, {"core_mask": 0, "x_hop": 0, "y_hop": 0, "tag": 0})
            assert destination.core == [bool(entry["core_mask"] >> k & 1) for k in range(4)]
            assert (destination.x_hop, destination.y_hop, destination.tag) == (
                entry["x_hop"], entry["y_hop"], entry["tag"])
    assert (configuration.chips[0].cores[0].neurons[0].destinations[0].x_hop,
            configuration.chips[0].cores[0].neurons[0].destinations[0].y_hop) == (-7, -7)


def test_what_the_export_does_not_determine_is_left_alone(export):
    json_path, document = export
    configuration = Configuration()
    apply_export(json_path, configuration)
    used = {(c["chip"], c["core"]) for c in document["cores"]}
    for chip in range(2):
        for index in range(4):
            core = configuration.chips[chip].cores[index]
            if (chip, index) not in used:      # untouched: stale content and parameters stay
                assert core.neurons[5].synapses[0].dendrite == Dendrite.nmda
                assert core.parameters["SOIF_LEAK_N"].coarse_value == 3
                continue
            assert core.parameters["SOIF_CC_N"].coarse_value == 3          # not computed
            empty = core.neurons[200]                  # in a used core, not exported: emptied
            assert all(s.dendrite == Dendrite.none for s in empty.synapses)
            assert all(d.core == [False] * 4 for d in empty.destinations)
            assert not empty.latch_so_dc


def test_an_export_beyond_the_boards_chips_is_a_named_error(export):
    json_path, _ = export
    with pytest.raises(ExportConfigError, match="chip 1; the configuration has 1 chip"):
        apply_export(json_path, Configuration(chips=1))
    with pytest.raises(ExportConfigError, match="not a neurodamus-dynapse export"):
        other = json_path.parent / "other.json"
        other.write_text("{}")
        apply_export(other, Configuration())


def test_apply_names_the_file_the_writer_writes():
    assert apply.JSON_NAME == writer.JSON_NAME
