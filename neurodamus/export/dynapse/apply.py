"""apply_export: put an export onto a samna Dynapse2Configuration, by attribute.

On a board, the whole of it is

    model.apply_configuration(apply_export("DIR", model.get_configuration()))

It takes the route Rockpool's config_from_specification takes: it changes, in the configuration
it is given, only what the export determines, through samna's Python attributes --
`chips[c].cores[k].parameters[name].coarse_value / .fine_value`, and for every neuron of a core
in use its `synapses`, `destinations` and `latch_so_dc` -- so everything else (the parameter
generators' addresses, the parameters we do not compute, sADC, DVS, bio-amps, the cores we do
not use) stays as samna has it. Every neuron of a core in use is rewritten: the exported ones
with their CAM slots, destinations (slot 0 the monitor route) and DC latch, the others emptied,
so nothing of an earlier configuration reaches or leaves the exported network.

It imports only the standard library and samna_layout (no NumPy, no libsonata), so it runs in
samna's environment as it is. Without samna nothing is imported: the objects are reached by
attribute only, and a synapse's dendrite is made with the class of the value it replaces
(samna's Dendrite enum takes the code).
Lists are read, changed in place and assigned back, as samna's bindings return copies.
"""

import json
from pathlib import Path

from .errors import ExportConfigError
from .samna_layout import CAM_SLOTS, CORES_PER_CHIP, DESTINATION_SLOTS, MASK_BITS, NEURONS_PER_CORE

JSON_NAME = "dynapse.json"     # writer.JSON_NAME, not imported: this module needs no libsonata

_NO_SYNAPSE = {"dendrite_code": 0, "mask": 0, "tag": 0}
_NO_DESTINATION = {"core_mask": 0, "x_hop": 0, "y_hop": 0, "tag": 0}


def _bits(value: int, count: int) -> list[bool]:
    return [bool((int(value) >> k) & 1) for k in range(count)]


def _as_type_of(current, value: int):
    """`value` made with the class of `current` (samna's or Rockpool's Dendrite, or int)."""
    kind = type(current)
    return int(value) if kind in (int, bool) or current is None else kind(int(value))


def _read_export(path) -> tuple[Path, dict]:
    path = Path(path)
    json_path = path / JSON_NAME if path.is_dir() else path
    try:
        document = json.loads(json_path.read_text())
    except (OSError, ValueError) as error:
        raise ExportConfigError(f"cannot read the export: {error}", file=json_path) from None
    if not isinstance(document, dict) or document.get("format") != "neurodamus-dynapse":
        raise ExportConfigError("not a neurodamus-dynapse export", file=json_path, key="format")
    return json_path, document


def _set_synapses(neuron, entries: list[dict]) -> None:
    slots = [_NO_SYNAPSE] * CAM_SLOTS
    for entry in entries:
        slots[entry["slot"]] = entry
    synapses = list(neuron.synapses)
    for synapse, entry in zip(synapses, slots):
        synapse.dendrite = _as_type_of(synapse.dendrite, entry["dendrite_code"])
        synapse.weight = _bits(entry["mask"], MASK_BITS)
        synapse.tag = int(entry["tag"])
        synapse.stp = synapse.precise_delay = synapse.mismatched_delay = False
    neuron.synapses = synapses


def _set_destinations(neuron, entries: list[dict]) -> None:
    slots = [_NO_DESTINATION] * DESTINATION_SLOTS
    for entry in entries:
        slots[entry["slot"]] = entry
    destinations = list(neuron.destinations)
    for destination, entry in zip(destinations, slots):
        destination.core = _bits(entry["core_mask"], CORES_PER_CHIP)
        destination.x_hop, destination.y_hop = int(entry["x_hop"]), int(entry["y_hop"])
        destination.tag = int(entry["tag"])
    neuron.destinations = destinations


def apply_export(path, configuration):
    """Set the export at `path` (its directory or dynapse.json) onto `configuration` (a samna
    Dynapse2Configuration, or anything with its attributes) and return it."""
    json_path, document = _read_export(path)
    chips = configuration.chips
    neurons_by_core: dict[tuple[int, int], dict[int, dict]] = {}
    for neuron in document["neurons"]:
        neurons_by_core.setdefault((neuron["chip"], neuron["core"]), {})[neuron["neuron"]] = neuron
    for core_document in document["cores"]:
        chip, index = core_document["chip"], core_document["core"]
        if chip >= len(chips):
            raise ExportConfigError(f"the export uses chip {chip}; the configuration has "
                                    f"{len(chips)} chip(s)", file=json_path, key="cores")
        core = chips[chip].cores[index]
        parameters = core.parameters
        for name, code in core_document["bias_codes"].items():
            parameter = parameters[name]
            parameter.coarse_value, parameter.fine_value = int(code["coarse"]), int(code["fine"])
        dc = core_document["bias_codes"]["SOIF_DC_P"]["requested_A"] > 0
        exported = neurons_by_core.get((chip, index), {})
        for address in range(NEURONS_PER_CORE):
            target = core.neurons[address]
            neuron = exported.get(address)
            _set_synapses(target, neuron["cam"] if neuron else [])
            _set_destinations(target, neuron["destinations"] if neuron else [])
            target.latch_so_dc = bool(dc and neuron is not None)
    return configuration
