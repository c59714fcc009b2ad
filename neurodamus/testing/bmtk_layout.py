"""Rewrite a strict circuit of the test generator in the layout bmtk and the Allen Institute
examples use, with the same content, so that a test can check that reading it leniently
gives exactly the strict circuit's results.

What changes: node attributes shared by many nodes move to a node types CSV (space
separated, `NONE` for empty); every population is split into two groups; edge `syn_type_id`
moves to an edge types CSV, along with a `delay` column the HDF5 values override; edge
indices are dropped; the circuit config lists no populations and the simulation config is
bmtk's (a config.json wrapper, `${configdir}` manifests, no `run.random_seed`,
`spikes_sort_order: "time"`, spike inputs of module `h5` naming their source, current steps
as `IClamp`s, soma reports
as `membrane_report`s over the whole run).
"""

import json
from pathlib import Path

import h5py
import numpy as np

from .sonata_files import sonata_file, write_columns

MOVED_TO_NODE_TYPES = ("model_template", "model_type")


def _read_group(group: h5py.Group) -> dict:
    out = {}
    for name, item in group.items():
        if isinstance(item, h5py.Dataset):
            out[name] = item[()]
        elif name == "dynamics_params":
            out["@dynamics"] = {n: d[()] for n, d in item.items()}
    return out


def _write_split(population: h5py.Group, kind: str, columns: dict):
    """Rows alternate between groups 0 and 1 (a multi-group population)."""
    count = len(population[f"{kind}_type_id"])
    group_ids = (np.arange(count) % 2).astype(np.uint32)
    group_index = np.arange(count) // 2
    population.create_dataset(f"{kind}_group_id", data=group_ids)
    population.create_dataset(f"{kind}_group_index", data=group_index.astype(np.uint64))
    dynamics = columns.get("@dynamics")
    plain = {name: values for name, values in columns.items() if name != "@dynamics"}
    for group_id in (0, 1):
        rows = np.flatnonzero(group_ids == group_id)
        write_columns(population.create_group(str(group_id)), plain, rows.size, rows,
                      dynamics)


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _write_table(path: Path, header: list[str], rows: list[list]):
    lines = [" ".join(header)] + [" ".join(str(v) if v != "" else "NONE" for v in row)
                                  for row in rows]
    path.write_text("\n".join(lines) + "\n")


def rewrite_nodes(source: Path, out_h5: Path, out_csv: Path, virtual: set[str]):
    """Every population of `source` with its model_template/model_type in the types table."""
    header, rows, next_id = ["node_type_id", *MOVED_TO_NODE_TYPES, "ei"], [], 100
    with h5py.File(source, "r") as src, sonata_file(out_h5) as out:
        for name, population in src["nodes"].items():
            columns = _read_group(population["0"])
            count = len(population["node_type_id"])
            templates = (_text(columns.pop("model_template")) if "model_template" in columns
                         else [""] * count)
            model_type = "virtual" if name in virtual else "biophysical"
            type_ids = np.zeros(count, np.int64)
            for template in sorted(set(templates)):
                rows.append([next_id, template, model_type, "e"])
                type_ids[[t == template for t in templates]] = next_id
                next_id += 1
            group = out.create_group(f"nodes/{name}")
            group.create_dataset("node_type_id", data=type_ids)
            group.create_dataset("node_id", data=np.arange(count, dtype=np.uint64))
            _write_split(group, "node", columns)
    _write_table(out_csv, header, rows)


def rewrite_edges(source: Path, out_h5: Path, out_csv: Path):
    """syn_type_id in the edge types table, a `delay` column the HDF5 delays override, two
    groups, and no indices."""
    rows, next_id = [], 100
    with h5py.File(source, "r") as src, sonata_file(out_h5) as out:
        for name, population in src["edges"].items():
            columns = _read_group(population["0"])
            syn_types = np.asarray(columns.pop("syn_type_id"))
            type_ids = np.zeros(len(syn_types), np.int64)
            for syn_type in sorted(set(syn_types.tolist())):
                rows.append([next_id, syn_type, 99.0])
                type_ids[syn_types == syn_type] = next_id
                next_id += 1
            group = out.create_group(f"edges/{name}")
            group.create_dataset("edge_type_id", data=type_ids)
            for end in ("source_node_id", "target_node_id"):
                dataset = group.create_dataset(end, data=population[end][()])
                dataset.attrs["node_population"] = population[end].attrs["node_population"]
            _write_split(group, "edge", columns)
    _write_table(out_csv, ["edge_type_id", "syn_type_id", "delay"], rows)


def rewrite_in_bmtk_layout(strict_circuit: Path, strict_simulation: Path, directory: Path,
                           virtual: set[str]) -> Path:
    """Write the bmtk-layout copy of a strict circuit and simulation into `directory`;
    returns the config.json wrapper to run."""
    directory = Path(directory)
    _rewrite_circuit(Path(strict_circuit), directory, virtual)
    _rewrite_simulation(Path(strict_simulation), directory)
    wrapper = directory / "config.json"
    wrapper.write_text(json.dumps({"network": "./circuit_config.json",
                                   "simulation": "./simulation_config.json"}, indent=2))
    return wrapper


def _rewrite_circuit(strict_circuit: Path, directory: Path, virtual: set[str]):
    """Every nodes and edges file rewritten into `directory`/network; a circuit config that
    lists no populations."""
    (directory / "network").mkdir(parents=True, exist_ok=True)
    circuit = json.loads(strict_circuit.read_text())
    base = strict_circuit.parent
    nodes, edges = [], []
    for index, entry in enumerate(circuit["networks"]["nodes"]):
        source = base / entry["nodes_file"].replace("$BASE_DIR/", "")
        h5, csv = (directory / "network" / f"nodes_{index}.h5",
                   directory / "network" / f"node_types_{index}.csv")
        rewrite_nodes(source, h5, csv, virtual)
        nodes.append({"nodes_file": f"$NETWORK_DIR/{h5.name}",
                      "node_types_file": f"$NETWORK_DIR/{csv.name}"})
    for index, entry in enumerate(circuit["networks"]["edges"]):
        source = base / entry["edges_file"].replace("$BASE_DIR/", "")
        h5, csv = (directory / "network" / f"edges_{index}.h5",
                   directory / "network" / f"edge_types_{index}.csv")
        rewrite_edges(source, h5, csv)
        edges.append({"edges_file": f"$NETWORK_DIR/{h5.name}",
                      "edge_types_file": f"$NETWORK_DIR/{csv.name}"})
    components = {"morphologies_dir": str((base / "morphologies").resolve()),
                  "biophysical_neuron_models_dir": str((base / "emodels").resolve())}
    (directory / "circuit_config.json").write_text(json.dumps({
        "manifest": {"$NETWORK_DIR": "${configdir}/network"},
        "components": components,
        "node_sets_file": str((base / "node_sets.json").resolve()),
        "networks": {"nodes": nodes, "edges": edges}}, indent=2))


def _rewrite_simulation(strict_simulation: Path, directory: Path):
    """bmtk's simulation config: `${configdir}` manifest, no random seed, spike inputs of
    module h5, current steps as IClamps, soma reports as membrane_reports."""
    simulation = json.loads(strict_simulation.read_text())
    simulation.pop("network", None)
    simulation["run"].pop("random_seed", None)
    simulation["manifest"] = {"$OUTPUT_DIR": "${configdir}/output"}
    simulation["output"] = {**simulation["output"], "output_dir": "$OUTPUT_DIR",
                            "spikes_sort_order": "time"}
    inputs = {}
    for name, entry in simulation.get("inputs", {}).items():
        if entry.get("module") == "synapse_replay":
            spike_file = strict_simulation.parent / entry["spike_file"]
            with h5py.File(spike_file, "r") as f:
                source = next(iter(f["spikes"]))
            entry = {"input_type": "spikes", "module": "h5",
                     "input_file": str(spike_file.resolve()), "node_set": source}
        elif entry.get("module") == "linear" and "amp_end" not in entry:
            entry = {"input_type": "current_clamp", "module": "IClamp", "node_set":
                     entry["node_set"], "amp": entry["amp_start"], "delay": entry["delay"],
                     "duration": entry["duration"]}
        inputs[name] = entry
    simulation["inputs"] = inputs
    simulation["reports"] = {
        name: {"cells": entry["cells"], "variable_name": entry["variable_name"],
               "module": "membrane_report", "sections": entry.get("sections", "soma")}
        for name, entry in simulation.get("reports", {}).items()}
    (directory / "simulation_config.json").write_text(json.dumps(simulation, indent=2))
