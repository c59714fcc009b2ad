"""DIR/samna_config.json: the export in the JSON layout of samna's Dynapse2Configuration, and back.

The layout, complete in every field, is samna_layout.py's. A core in use gets its 23 bias codes
(the rest of its parameter map at (0, 0)), and all 256 neurons: each exported neuron its CAM
slots, its destinations (slot 0 the monitor route to the host) and the DC latch where the core's
Idc is on; the others empty. A core not in use is complete too, every neuron empty and every
bias at (0, 0). One chip is written per board position up to the last one in use.

This is the configuration as data (for reading, diffing, and Rockpool's samna_alias classes);
apply.apply_export puts an export onto a live samna configuration.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import samna_layout as layout
from .bias_codes import BiasCode, core_bias_codes
from .chip_config import ChipConfig
from .errors import ExportConfigError

SAMNA_JSON_NAME = "samna_config.json"


def to_samna_document(config: ChipConfig, codes: list[dict[str, BiasCode]] | None = None) -> dict:
    """The samna layout of the export; `codes` as core_bias_codes gives them (computed if None)."""
    codes = core_bias_codes(config) if codes is None else codes
    chip_of_neuron = (config.neuron_chip, config.neuron_core, config.neuron_address)
    by_address = {(int(c), int(k), int(a)): i for i, (c, k, a) in enumerate(zip(*chip_of_neuron))}
    synapses: dict[int, list] = {i: [layout.EMPTY_SYNAPSE] * layout.CAM_SLOTS
                                 for i in by_address.values()}
    for s in range(len(config.cam_neuron)):
        synapses[int(config.cam_neuron[s])][int(config.cam_slot[s])] = layout.synapse(
            config.cam_dendrite[s], config.cam_mask[s], config.cam_tag[s])
    destinations: dict[int, list] = {i: [layout.EMPTY_DESTINATION] * layout.DESTINATION_SLOTS
                                     for i in by_address.values()}
    for d in range(len(config.dest_neuron)):
        destinations[int(config.dest_neuron[d])][int(config.dest_slot[d])] = layout.destination(
            config.dest_core_mask[d], config.dest_x_hop[d], config.dest_y_hop[d],
            config.dest_tag[d])
    core_rows = {(int(c), int(k)): row
                 for row, (c, k) in enumerate(zip(config.core_chip, config.core_index))}
    unused_core = layout.core()
    chips = []
    for chip in range(int(config.core_chip.max()) + 1 if len(config.core_chip) else 0):
        cores = []
        for core in range(layout.CORES_PER_CHIP):
            row = core_rows.get((chip, core))
            if row is None:
                cores.append(unused_core)
                continue
            dc = codes[row]["SOIF_DC_P"].requested > 0
            neurons = []
            for address in range(layout.NEURONS_PER_CORE):
                i = by_address.get((chip, core, address))
                neurons.append(layout.EMPTY_NEURON if i is None else
                               layout.neuron(synapses[i], destinations[i], dc))
            cores.append(layout.core(neurons, {name: (code.coarse, code.fine)
                                               for name, code in codes[row].items()}))
        chips.append(layout.chip(cores))
    return {"value0": {"chips": chips}}


def write_samna_config(config: ChipConfig, directory,
                       codes: list[dict[str, BiasCode]] | None = None) -> Path:
    """Write DIR/samna_config.json (compact: it holds 256 x 64 CAM slots per core)."""
    path = Path(directory) / SAMNA_JSON_NAME
    text = json.dumps(to_samna_document(config, codes), separators=(",", ":"), allow_nan=False)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text + "\n")
    temporary.replace(path)
    return path


@dataclass(frozen=True)
class SamnaParameters:
    """What samna_config.json programs, read back as arrays (one row per used CAM slot etc.)."""

    parameters: dict      # (chip, core) -> {bias name: (type 'N'/'P', coarse, fine)}, every core
    dc_latch: dict        # (chip, core, neuron) -> bool, for every neuron written
    cam: np.ndarray       # [n, 7]: chip, core, neuron, slot, dendrite, mask, tag
    destinations: np.ndarray  # [n, 8]: chip, core, neuron, slot, core mask, x_hop, y_hop, tag


def _unnumber(value: dict, key: str) -> list:
    """cereal's numbered object {"value0": a, "value1": b, ...} -> [a, b, ...]."""
    if not isinstance(value, dict) or any(k != f"value{n}" for n, k in enumerate(value)):
        raise ExportConfigError("expected a numbered object (value0, value1, ...)", key=key)
    return list(value.values())


def _mask(bits: dict, key: str) -> int:
    return sum(1 << k for k, bit in enumerate(_unnumber(bits, key)) if bit)


def read_samna_config(path) -> SamnaParameters:
    """Read samna_config.json back; raises ExportConfigError naming the file and the key."""
    try:
        document = json.loads(Path(path).read_text())
        chips = document["value0"]["chips"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportConfigError(f"not a samna configuration: {error}", file=path,
                                key="value0.chips") from None
    parameters, dc_latch, cam, destinations = {}, {}, [], []
    for chip, chip_document in enumerate(chips):
        for core, core_document in enumerate(_unnumber(chip_document["cores"], "cores")):
            parameters[(chip, core)] = {
                entry["key"]: (chr(entry["value"]["type"]), entry["value"]["coarseValue"],
                               entry["value"]["fineValue"])
                for entry in core_document["parameters"]}
            for neuron, neuron_document in enumerate(_unnumber(core_document["neurons"],
                                                               "neurons")):
                dc_latch[(chip, core, neuron)] = bool(neuron_document["latchSoDc"])
                for slot, synapse in enumerate(_unnumber(neuron_document["synapses"],
                                                         "synapses")):
                    if synapse["dendrite"]:
                        cam.append((chip, core, neuron, slot, synapse["dendrite"],
                                    _mask(synapse["weight"], "weight"), synapse["tag"]))
                for slot, destination in enumerate(_unnumber(neuron_document["destinations"],
                                                             "destinations")):
                    mask = _mask(destination["core"], "core")
                    if mask or destination["tag"] or destination["xHop"] or destination["yHop"]:
                        destinations.append((chip, core, neuron, slot, mask, destination["xHop"],
                                             destination["yHop"], destination["tag"]))
    return SamnaParameters(parameters, dc_latch, np.array(cam, dtype=np.int64).reshape(-1, 7),
                           np.array(destinations, dtype=np.int64).reshape(-1, 8))
