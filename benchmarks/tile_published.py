"""A published BBP circuit's cells tiled to N cells, for timing against the reference simulator:

    python -m benchmarks.tile_published V5_SONATA_DIR OUT_DIR --cells N [--synapses 100]
        [--tstop 50]

V5_SONATA_DIR is neurodamus's tests/simulations/v5_sonata (fetched outside the project).
Cell i copies node i % 5 of sub_mini5 (its e-model template, morphology, dynamics and
orientation; its position shifted), so the circuit has the published templates and ASC
morphologies, each morphology shared by N/5 cells. Each cell gets `--synapses` recurrent
synapses whose attributes are drawn (with replacement) from the real afferent edges (internal
and external) of its original node, each from a random other cell; delays are rounded to
multiples of dt so that both simulators deliver events at the same step. The simulation
config keeps the original's noise and hyperpolarising inputs and node sets, on `--tstop`
ms, no reports. Nothing of it is committed: it is written into OUT_DIR.
"""

import argparse
import json
import shutil
from pathlib import Path

import h5py
import libsonata
import numpy as np

DT = 0.025
NODE_COLUMNS = ("model_template", "model_type", "morphology", "mtype", "etype",
                "synapse_class", "layer", "orientation_w", "orientation_x", "orientation_y",
                "orientation_z", "x", "y", "z")


def _strings(group, name, values):
    group.create_dataset(name, data=np.asarray(values, dtype=object),
                         dtype=h5py.string_dtype())


def tile(v5: Path, out: Path, cells: int, synapses: int, tstop: float, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    mini = v5 / "sub_mini5"
    out.mkdir(parents=True, exist_ok=True)
    nodes = libsonata.NodeStorage(str(mini / "default" / "nodes.h5")).open_population("default")
    everything = libsonata.Selection([(0, nodes.size)])
    originals = np.arange(cells) % nodes.size
    with h5py.File(out / "nodes.h5", "w") as f:
        f.attrs["version"] = np.array([0, 1], np.uint32)
        f.attrs["magic"] = np.uint32(0x0A7A)
        group = f.create_group("nodes/default")
        group.create_dataset("node_type_id", data=np.full(cells, -1, np.int64))
        attrs = group.create_group("0")
        for name in NODE_COLUMNS:
            if name not in nodes.attribute_names:
                continue
            values = np.asarray(nodes.get_attribute(name, everything))[originals]
            if name in ("x", "y", "z"):
                values = values.astype(float) + 50.0 * (np.arange(cells) // nodes.size)
            if values.dtype.kind in "OUS":
                _strings(attrs, name, values.tolist())
            else:
                attrs.create_dataset(name, data=values)
        dynamics = attrs.create_group("dynamics_params")
        for name in nodes.dynamics_attribute_names:
            dynamics.create_dataset(name, data=np.asarray(
                nodes.get_dynamics_attribute(name, everything))[originals])
    pools: dict[int, dict[str, np.ndarray]] = {k: {} for k in range(nodes.size)}
    files = [(mini / "default" / "edges.h5", "default"),
             (mini / "external_default.h5", "external_default")]
    columns = None
    for path, name in files:
        edges = libsonata.EdgeStorage(str(path)).open_population(name)
        names = set(edges.attribute_names)
        columns = names if columns is None else columns & names
    assert columns is not None
    columns -= {"efferent_morphology_id", "efferent_section_id", "efferent_segment_id",
                "efferent_segment_offset", "nrn_line"}
    for k in range(nodes.size):
        parts = []
        for path, name in files:
            edges = libsonata.EdgeStorage(str(path)).open_population(name)
            selection = edges.afferent_edges([k])
            parts.append({c: np.asarray(edges.get_attribute(c, selection)) for c in columns})
        pools[k] = {c: np.concatenate([p[c] for p in parts]) for c in columns}
    targets = np.repeat(np.arange(cells), synapses)
    sources = (targets + rng.integers(1, cells, targets.size)) % cells
    drawn: dict[str, list] = {c: [] for c in columns}
    for i in range(cells):
        pool = pools[int(originals[i])]
        picks = rng.integers(0, len(pool["delay"]), synapses)
        for c in columns:
            drawn[c].append(pool[c][picks])
    merged = {c: np.concatenate(v) for c, v in drawn.items()}
    merged["delay"] = (np.maximum(np.round(merged["delay"] / DT), 1) * DT).astype(
        merged["delay"].dtype)
    with h5py.File(out / "edges.h5", "w") as f:
        f.attrs["version"] = np.array([0, 1], np.uint32)
        f.attrs["magic"] = np.uint32(0x0A7A)
        group = f.create_group("edges/default")
        group.create_dataset("source_node_id", data=sources.astype(np.uint64))
        group["source_node_id"].attrs["node_population"] = "default"
        group.create_dataset("target_node_id", data=targets.astype(np.uint64))
        group["target_node_id"].attrs["node_population"] = "default"
        group.create_dataset("edge_type_id", data=np.full(targets.size, -1, np.int64))
        attrs = group.create_group("0")
        for c, data in sorted(merged.items()):
            attrs.create_dataset(c, data=data)
    libsonata.EdgePopulation.write_indices(str(out / "edges.h5"), "default", cells, cells)
    shutil.copy(v5 / "node_sets.json", out / "node_sets.json")
    circuit = {
        "manifest": {"$BASE_DIR": "./"},
        "components": {"biophysical_neuron_models_dir": str(mini / "biophysical_model_templates"),
                       "morphologies_dir": str(mini / "morphologies")},
        "node_sets_file": "$BASE_DIR/node_sets.json",
        "networks": {
            "nodes": [{"nodes_file": "$BASE_DIR/nodes.h5", "populations": {"default": {
                "type": "biophysical",
                "alternate_morphologies": {"neurolucida-asc": str(mini / "morphologies")}}}}],
            "edges": [{"edges_file": "$BASE_DIR/edges.h5",
                       "populations": {"default": {"type": "chemical"}}}]},
    }
    (out / "circuit_config.json").write_text(json.dumps(circuit, indent=2))
    simulation = json.loads((v5 / "simulation_config_mini.json").read_text())
    simulation["network"] = "circuit_config.json"
    simulation["run"]["tstop"] = tstop
    simulation["node_set"] = "Mosaic"
    simulation["reports"] = {}
    simulation["output"] = {"output_dir": "output", "spikes_file": "out.h5"}
    simulation["manifest"] = {"$OUTPUT_DIR": "./", "$INPUT_DIR": "./"}
    config = out / "simulation_config.json"
    config.write_text(json.dumps(simulation, indent=2))
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tile_published", description=__doc__.split("\n\n")[0])
    parser.add_argument("v5_sonata", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cells", type=int, required=True)
    parser.add_argument("--synapses", type=int, default=100)
    parser.add_argument("--tstop", type=float, default=50.0)
    args = parser.parse_args(argv)
    print(tile(args.v5_sonata.resolve(), args.out.resolve(), args.cells, args.synapses,
               args.tstop))


if __name__ == "__main__":
    main()
