"""DIR/samna_config.json: the export in the JSON layout of samna's Dynapse2Configuration, and back.

samna (SynSense's board software) serialises its objects with cereal's JSON archive; the layout
below is that of samna.dynapse2.Dynapse2Configuration as documented by the field lists that
Rockpool mirrors without samna (github.com/synsense/rockpool,
rockpool/devices/dynapse/samna_alias/modules.py). Written by our own code from that format:

    {"value0": {"chips": [chip, ...]}}                       one chip per board position in use
    chip   = {"cores": {"value0": core, ..., "value3": core}}
    core   = {"neurons": {"value0": neuron, ..., "value255": neuron},
              "parameters": [{"key": bias name, "value": parameter}, ...]}
    parameter = {"type": 78 ('N') or 80 ('P'), "coarseValue": 0..5, "fineValue": 0..255}
    neuron = {"synapses": {"value0".."value63": synapse}, "destinations": {"value0".."value3":
              destination}, "latchSoDc": bool, and the other 13 latch* switches (False)}
    synapse = {"dendrite": 1024 AMPA | 512 GABA | 0 none, "stp": false,
               "weight": {"value0".."value3": bit k of the 4-bit mask}, "preciseDelay": false,
               "mismatchedDelay": false, "tag": 0..2047}
    destination = {"core": {"value0".."value3": core k of the target chip}, "xHop": int,
                   "yHop": int, "tag": int}

Lists are cereal's numbered objects ("valueN", in order), camelCase names, as samna writes them.
Only what the network determines is written. A core in use gets its parameters and all 256
neurons, each with its 64 CAM slots and 4 SRAM destinations (unused ones empty: dendrite none,
empty core mask) and the DC latch (on where the core's Idc is). A core not in use is written
as {"neurons": {}, "parameters": []}: nothing to set, it keeps the values of the configuration
the file is applied onto. The chip-level blocks (the parameter generators' internal addresses,
sADC, DVS interface, bio-amps) are left out likewise; see docs/dynapse.md for applying the file
onto a fresh samna Dynapse2Configuration.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bias_codes import BiasCode, core_bias_codes
from .chip_config import ChipConfig
from .cores import CORES_PER_CHIP
from .errors import ExportConfigError

SAMNA_JSON_NAME = "samna_config.json"
NEURONS_PER_CORE, CAM_SLOTS, DESTINATION_SLOTS, MASK_BITS = 256, 64, 4, 4
TYPE_CODES = {"N": ord("N"), "P": ord("P")}
LATCHES = ("latchSoDc", "latchSoAdaptation", "latchSoifKill", "latchCohoCaMem", "latchHoEnable",
           "latchHoSoDe", "latchDeamAmpa", "latchDenmNmda", "latchDeConductance",
           "latchDeamAlpha", "latchDenmAlpha", "latchDeMux", "latchSoifType", "latchHoActive")


def _numbered(items) -> dict:
    return {f"value{k}": item for k, item in enumerate(items)}


def _bits(value: int, count: int) -> dict:
    return _numbered([bool((int(value) >> k) & 1) for k in range(count)])


def _empty_synapse() -> dict:
    return {"dendrite": 0, "stp": False, "weight": _bits(0, MASK_BITS), "preciseDelay": False,
            "mismatchedDelay": False, "tag": 0}


def _empty_destination() -> dict:
    return {"core": _bits(0, CORES_PER_CHIP), "xHop": 0, "yHop": 0, "tag": 0}


def _neuron(synapses: list, destinations: list, dc: bool) -> dict:
    latches = dict.fromkeys(LATCHES, False)
    latches["latchSoDc"] = dc
    return {"synapses": _numbered(synapses), "destinations": _numbered(destinations), **latches}


def to_samna_document(config: ChipConfig, codes: list[dict[str, BiasCode]] | None = None) -> dict:
    """The samna layout of the export; `codes` as core_bias_codes gives them (computed if None)."""
    codes = core_bias_codes(config) if codes is None else codes
    chip_of_neuron = (config.neuron_chip, config.neuron_core, config.neuron_address)
    by_address = {(int(c), int(k), int(a)): i for i, (c, k, a) in enumerate(zip(*chip_of_neuron))}
    synapses: dict[int, list] = {i: [_empty_synapse() for _ in range(CAM_SLOTS)]
                                 for i in by_address.values()}
    for s in range(len(config.cam_neuron)):
        synapses[int(config.cam_neuron[s])][int(config.cam_slot[s])] = {
            **_empty_synapse(), "dendrite": int(config.cam_dendrite[s]),
            "weight": _bits(config.cam_mask[s], MASK_BITS), "tag": int(config.cam_tag[s])}
    destinations: dict[int, list] = {i: [_empty_destination() for _ in range(DESTINATION_SLOTS)]
                                     for i in by_address.values()}
    for d in range(len(config.dest_neuron)):
        destinations[int(config.dest_neuron[d])][int(config.dest_slot[d])] = {
            "core": _bits(config.dest_core_mask[d], CORES_PER_CHIP),
            "xHop": int(config.dest_x_hop[d]), "yHop": int(config.dest_y_hop[d]),
            "tag": int(config.dest_tag[d])}
    core_rows = {(int(c), int(k)): row
                 for row, (c, k) in enumerate(zip(config.core_chip, config.core_index))}
    empty_neuron = _neuron([_empty_synapse()] * CAM_SLOTS,
                           [_empty_destination()] * DESTINATION_SLOTS, False)
    unused_core: dict = {"neurons": {}, "parameters": []}
    chips = []
    for chip in range(int(config.core_chip.max()) + 1 if len(config.core_chip) else 0):
        cores = []
        for core in range(CORES_PER_CHIP):
            row = core_rows.get((chip, core))
            if row is None:
                cores.append(unused_core)
                continue
            parameters = [
                {"key": name, "value": {"type": TYPE_CODES[code.type],
                                        "coarseValue": code.coarse, "fineValue": code.fine}}
                for name, code in codes[row].items()]
            dc = codes[row]["SOIF_DC_P"].requested > 0
            neurons = []
            for address in range(NEURONS_PER_CORE):
                i = by_address.get((chip, core, address))
                neurons.append(empty_neuron if i is None else
                               _neuron(synapses[i], destinations[i], dc))
            cores.append({"neurons": _numbered(neurons), "parameters": parameters})
        chips.append({"cores": _numbered(cores)})
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

    parameters: dict      # (chip, core) -> {bias name: (type 'N'/'P', coarse, fine)}
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
            if core_document["parameters"]:
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
