"""dynapse.json (for people and tools) and dynapse.npz (the same arrays, for programs), and back.

Both files are written under a temporary name and renamed when complete. read_json rebuilds
every ChipConfig array from the JSON layout; what the JSON adds for readers (chip bias names,
bias codes, weight errors, the output map, notes) is derived from those arrays and not read back.
"""

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .bias_codes import BiasCode, core_bias_codes
from .chip_config import ChipConfig
from .errors import ExportConfigError
from .parameters import CHIP_BIAS_NAMES, CURRENT_NAMES, I_SCALE, PARAMETER_NAMES, chip_biases
from .routing import DENDRITE_CODES

FORMAT = "neurodamus-dynapse"
FORMAT_VERSION = 1
JSON_NAME, NPZ_NAME = "dynapse.json", "dynapse.npz"
STRING_FIELDS = {"neuron_population", "neuron_kind", "input_population"}
BOOL_FIELDS = {"cam_source_is_input", "dest_monitor"}
FLOAT_FIELDS = {"neuron_parameters", "core_currents", "core_spread", "core_base_weights",
                "cam_weight", "cam_weight_quantized"}
SCALAR_FIELDS = {"mv_per_unit": float, "n_edges": int}
DENDRITE_NAMES = {code: name for name, code in DENDRITE_CODES.items()}
NORMALISATION = (
    "Currents are dimensionless LIF values x Iscale. Threshold, bias and weights are in units "
    "of the LIF's threshold scale: IntFire1 as is (threshold 1); a LIF in mV via "
    "U = mv_per_unit: threshold = (V_th - E_L)/U, bias = I_e*tau_m/(C_m*U), "
    "weight = syn_weight[pA]*tau_m/(C_m*U).")


def _array(name: str, values) -> np.ndarray:
    if name in STRING_FIELDS:
        return np.array(values, dtype=str)
    dtype = bool if name in BOOL_FIELDS else float if name in FLOAT_FIELDS else np.int64
    return np.array(values, dtype=dtype)


def _replace_atomically(path: Path, write) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as stream:
        write(stream)
    os.replace(temporary, path)


def write_npz(config: ChipConfig, path) -> None:
    arrays: dict[str, Any] = {f.name: np.asarray(getattr(config, f.name))
                              for f in dataclasses.fields(config)}
    _replace_atomically(Path(path), lambda stream: np.savez(stream, **arrays))


def read_npz(path) -> ChipConfig:
    with np.load(path, allow_pickle=False) as data:
        values: dict[str, Any] = {}  # field -> scalar or array
        for field in dataclasses.fields(ChipConfig):
            value = data[field.name]
            values[field.name] = (SCALAR_FIELDS[field.name](value) if field.name in SCALAR_FIELDS
                                  else _array(field.name, value))
    return ChipConfig(**values)


def _core_document(config: ChipConfig, row: int, neuron_row: np.ndarray, error,
                   codes: dict[str, BiasCode]) -> dict:
    currents = config.core_currents[row]
    return {
        "chip": int(config.core_chip[row]), "core": int(config.core_index[row]),
        "neurons": np.flatnonzero(neuron_row == row).tolist(),
        "currents_A": {name: float(value) for name, value in zip(CURRENT_NAMES, currents)},
        "current_chip_names": {name: list(CHIP_BIAS_NAMES[name]) for name in CURRENT_NAMES},
        "chip_biases_A": chip_biases(currents, config.core_base_weights[row]),
        "base_weights_A": config.core_base_weights[row].tolist(),
        "bias_codes": {name: code.as_document() for name, code in codes.items()},
        "spread": {name: float(v) for name, v in zip(CURRENT_NAMES, config.core_spread[row])},
        "weight_error": dict(zip(("rms", "max_abs", "max_relative"), error)),
    }


def _neuron_document(config: ChipConfig, i: int, cam: np.ndarray, dest: np.ndarray) -> dict:
    return {
        "index": i, "population": str(config.neuron_population[i]),
        "node_id": int(config.neuron_node_id[i]), "kind": str(config.neuron_kind[i]),
        "chip": int(config.neuron_chip[i]), "core": int(config.neuron_core[i]),
        "neuron": int(config.neuron_address[i]), "tag": int(config.neuron_tag[i]),
        "parameters": dict(zip(PARAMETER_NAMES, config.neuron_parameters[i].tolist())),
        "cam": [{
            "slot": int(config.cam_slot[s]),
            "dendrite": DENDRITE_NAMES[int(config.cam_dendrite[s])],
            "dendrite_code": int(config.cam_dendrite[s]), "mask": int(config.cam_mask[s]),
            "tag": int(config.cam_tag[s]),
            "source": {"input" if config.cam_source_is_input[s] else "neuron":
                       int(config.cam_source[s])},
            "weight": float(config.cam_weight[s]),
            "weight_quantized": float(config.cam_weight_quantized[s]),
        } for s in cam],
        "destinations": [{
            "slot": int(config.dest_slot[d]), "monitor": bool(config.dest_monitor[d]),
            "chip": int(config.dest_chip[d]), "core_mask": int(config.dest_core_mask[d]),
            "x_hop": int(config.dest_x_hop[d]), "y_hop": int(config.dest_y_hop[d]),
            "tag": int(config.dest_tag[d]),
        } for d in dest],
    }


def _rows_by(owner: np.ndarray, count: int) -> list[np.ndarray]:
    """Row indices grouped by owner 0..count-1, each group in row order."""
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(count + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(count)]


def to_document(config: ChipConfig, notes=()) -> dict:
    n_neurons, n_inputs = len(config.neuron_node_id), len(config.input_node_id)
    neuron_row = config.neuron_core_row
    errors = config.quantization_errors()
    codes = core_bias_codes(config)
    cams = _rows_by(config.cam_neuron, n_neurons)
    dests = _rows_by(config.dest_neuron, n_neurons)
    input_dests = _rows_by(config.input_dest_channel, n_inputs)
    worst = int(np.argmax(np.abs(config.cam_weight - config.cam_weight_quantized))) \
        if len(config.cam_weight) else None
    return {
        "format": FORMAT, "version": FORMAT_VERSION,
        "units": {"currents": "A", "times": "ms", "parameters": "dimensionless except *_ms",
                  "weights": "dimensionless (x Iscale = current)"},
        "normalisation": {"iscale_A": I_SCALE,
                          "mv_per_unit": None if math.isnan(config.mv_per_unit)
                          else config.mv_per_unit, "explanation": NORMALISATION},
        "board": {"chip_positions": config.chip_position.tolist()},
        "summary": {"neurons": n_neurons, "cores": len(config.core_chip), "inputs": n_inputs,
                    "sonata_edges": config.n_edges, "cam_entries": len(config.cam_neuron)},
        "cores": [_core_document(config, row, neuron_row, errors[row], codes[row])
                  for row in range(len(config.core_chip))],
        "neurons": [_neuron_document(config, i, cams[i], dests[i]) for i in range(n_neurons)],
        "input_map": [{
            "channel": k, "population": str(config.input_population[k]),
            "node_id": int(config.input_node_id[k]), "tag": int(config.input_tag[k]),
            "destinations": [{"chip": int(config.input_dest_chip[d]),
                              "core_mask": int(config.input_dest_core_mask[d]),
                              "tag": int(config.input_dest_tag[d])} for d in input_dests[k]],
        } for k in range(n_inputs)],
        "output_map": [{
            "neuron": i, "population": str(config.neuron_population[i]),
            "node_id": int(config.neuron_node_id[i]), "chip": int(config.neuron_chip[i]),
            "core": int(config.neuron_core[i]), "neuron_address": int(config.neuron_address[i]),
            "monitor_tag": int(config.neuron_tag[i]),
        } for i in range(n_neurons)],
        "quantization": None if worst is None else {
            "worst_abs_error": float(abs(config.cam_weight[worst]
                                         - config.cam_weight_quantized[worst])),
            "worst_synapse": {"source": config.cam_source_name(worst),
                              "target": config.neuron_name(int(config.cam_neuron[worst]))},
            "worst_relative_error": max(e[2] for e in errors),
        },
        "notes": list(notes),
    }


def _dumps(document: dict) -> str:
    """JSON with one line per top-level entry, and one per item of a list of objects
    (a core, a neuron, a channel): readable with a pager, diffable, and still compact."""
    def dump(value) -> str:
        return json.dumps(value, allow_nan=False)

    entries = []
    for key, value in document.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = ",\n".join(f"  {dump(item)}" for item in value)
            entries.append(f" {dump(key)}: [\n{items}\n ]")
        else:
            entries.append(f" {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(entries) + "\n}\n"


def write_json(config: ChipConfig, path, notes=()) -> None:
    text = _dumps(to_document(config, notes))
    _replace_atomically(Path(path), lambda stream: stream.write(text.encode()))


def write_export(config: ChipConfig, directory, notes=()) -> tuple[Path, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_json(config, directory / JSON_NAME, notes)
    write_npz(config, directory / NPZ_NAME)
    return directory / JSON_NAME, directory / NPZ_NAME


def read_json(path) -> ChipConfig:
    """Rebuild the ChipConfig from dynapse.json."""
    document = json.loads(Path(path).read_text())
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportConfigError(f"not a {FORMAT} file", file=path, key="format")
    neurons, cores, inputs = document["neurons"], document["cores"], document["input_map"]
    cams = [(n["index"], c) for n in neurons for c in n["cam"]]
    dests = [(n["index"], d) for n in neurons for d in n["destinations"]]
    input_dests = [(k["channel"], d) for k in inputs for d in k["destinations"]]
    mv_per_unit = document["normalisation"]["mv_per_unit"]
    values = {
        "neuron_population": [n["population"] for n in neurons],
        "neuron_node_id": [n["node_id"] for n in neurons],
        "neuron_kind": [n["kind"] for n in neurons],
        "neuron_chip": [n["chip"] for n in neurons],
        "neuron_core": [n["core"] for n in neurons],
        "neuron_address": [n["neuron"] for n in neurons],
        "neuron_tag": [n["tag"] for n in neurons],
        "neuron_parameters": np.reshape([[n["parameters"][p] for p in PARAMETER_NAMES]
                                         for n in neurons], (-1, len(PARAMETER_NAMES))),
        "core_chip": [c["chip"] for c in cores],
        "core_index": [c["core"] for c in cores],
        "core_currents": [[c["currents_A"][name] for name in CURRENT_NAMES] for c in cores],
        "core_spread": [[c["spread"][name] for name in CURRENT_NAMES] for c in cores],
        "core_base_weights": [c["base_weights_A"] for c in cores],
        "cam_neuron": [i for i, _ in cams],
        "cam_slot": [c["slot"] for _, c in cams],
        "cam_dendrite": [c["dendrite_code"] for _, c in cams],
        "cam_mask": [c["mask"] for _, c in cams],
        "cam_tag": [c["tag"] for _, c in cams],
        "cam_source": [next(iter(c["source"].values())) for _, c in cams],
        "cam_source_is_input": ["input" in c["source"] for _, c in cams],
        "cam_weight": [c["weight"] for _, c in cams],
        "cam_weight_quantized": [c["weight_quantized"] for _, c in cams],
        "dest_neuron": [i for i, _ in dests],
        **{f"dest_{key}": [d[key] for _, d in dests]
           for key in ("slot", "chip", "core_mask", "x_hop", "y_hop", "tag", "monitor")},
        "input_population": [k["population"] for k in inputs],
        "input_node_id": [k["node_id"] for k in inputs],
        "input_tag": [k["tag"] for k in inputs],
        "input_dest_channel": [k for k, _ in input_dests],
        **{f"input_dest_{key}": [d[key] for _, d in input_dests]
           for key in ("chip", "core_mask", "tag")},
        "chip_position": document["board"]["chip_positions"],
    }
    arrays = {name: _array(name, value) for name, value in values.items()}
    return ChipConfig(**arrays, mv_per_unit=float("nan") if mv_per_unit is None else mv_per_unit,
                      n_edges=document["summary"]["sonata_edges"])
