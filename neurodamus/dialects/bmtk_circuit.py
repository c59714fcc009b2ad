"""bmtk circuits: whether a circuit config needs a strict copy, and writing that copy
(strict_copy.py per file) into the cache, keyed by the content it was made from."""

import json
from pathlib import Path

from ..errors import ConfigError
from .bmtk_json import absolute, content_key, expand, manifest_values, read_json
from .strict_copy import _text, copy_edges, copy_nodes, write_virtual_nodes
from .type_tables import read_type_table


def circuit_needs_copy(raw_circuit: dict) -> bool:
    networks = raw_circuit.get("networks", {}) if isinstance(raw_circuit, dict) else {}
    if not isinstance(networks, dict) or "edges" not in networks:
        return True
    for entry in networks.get("nodes", []) + networks.get("edges", []):
        if not isinstance(entry, dict):
            continue
        if entry.get("node_types_file") or entry.get("edge_types_file") or \
                "populations" not in entry:  # (BBP configs write "node_types_file": null)
            return True
    return False


def strict_circuit(path: Path, cache_root: Path, may_write: bool, leniencies, replays=(),
                   spont_suffix: str = ""):
    """(the circuit config to open, its node population names); `replays`: (suffix, edge
    file entry) of bmtk replay inputs, added as edges from virtual copies of their sources;
    `spont_suffix` (bmtk's syn_activity input): every edge file whose sources are all
    non-virtual comes from virtual copies of them (population + suffix) instead."""
    raw = read_json(path, "network")
    if not circuit_needs_copy(raw) and not replays and not spont_suffix:
        return path, _population_names(raw, path)
    values = manifest_values(raw, path.parent, path)
    raw = expand({k: v for k, v in raw.items() if k != "manifest"}, values, path)
    components = {k: absolute(v, path.parent) for k, v in raw.get("components", {}).items()}
    networks = raw.get("networks", {})
    nodes = [_absolute_entry(e, path.parent) for e in networks.get("nodes", [])]
    edges = [_absolute_entry(e, path.parent) for e in networks.get("edges", [])]
    if "edges" not in networks:
        leniencies.add("networks.edges", "missing: the circuit has no edges")
    for entry in nodes + edges:
        for table in ("node_types_file", "edge_types_file"):
            if entry.get(table):
                leniencies.add(f"networks.*.{table}", "type table columns merged under the "
                                                      "HDF5 attributes (strict copy)")
        if "populations" not in entry:
            leniencies.add("networks.*.populations", "missing: the populations are those of "
                                                     "the HDF5 files, typed by their model_type")
    if spont_suffix:
        edges = [{**entry, "spont_suffix": spont_suffix} if isinstance(entry, dict) else entry
                 for entry in edges]
    replay_entries = [{**entry, "source_suffix": suffix} for suffix, entry in replays]
    key = _copy_key(path, raw, components, nodes, edges + replay_entries)
    directory = cache_root / "circuits" / key
    strict = directory / "circuit_config.json"
    if not strict.is_file():
        if not may_write:
            raise ConfigError(f"the strict copy {directory} of the circuit was not written",
                              file=path)
        _write_copy(path, raw, components, nodes, edges + replay_entries, directory)
    leniencies.add("network", f"read through the strict copy {strict}")
    return strict, _population_names(read_json(strict), strict)


def population_sizes(circuit_file: Path, populations: list[str]) -> dict[str, int]:
    """Node count of each population, in the order given (bmtk's gid order)."""
    import libsonata

    circuit = libsonata.CircuitConfig.from_file(str(circuit_file))
    return {name: circuit.node_population(name).size for name in populations}


def _absolute_entry(entry, base: Path) -> dict:
    if not isinstance(entry, dict):
        return entry
    files = ("nodes_file", "node_types_file", "edges_file", "edge_types_file")
    return {k: absolute(v, base) if k in files else v for k, v in entry.items()}


def _population_names(raw: dict, path: Path) -> list[str]:
    names = []
    for entry in raw.get("networks", {}).get("nodes", []):
        if isinstance(entry, dict):
            names.extend(entry.get("populations", {}).keys())
    return names


def _copy_key(path, raw, components, nodes, edges) -> str:
    """Content key of a strict copy: the config and the size and time of every file read."""
    files = []
    for entry in nodes + edges:
        for name in ("nodes_file", "node_types_file", "edges_file", "edge_types_file"):
            if isinstance(entry, dict) and entry.get(name):
                files.append(Path(entry[name]))
    for name in ("point_neuron_models_dir", "synaptic_models_dir"):
        directory = components.get(name)
        if directory and Path(directory).is_dir():
            files.extend(sorted(Path(directory).glob("*.json")))
    return content_key(files, str(path), raw, nodes, edges)


def _write_copy(path, raw, components, nodes, edges, directory: Path):
    """Write the strict files into a fresh folder, then move it into place (all or nothing)."""
    partial = directory.with_name(directory.name + ".partial")
    if partial.exists():
        import shutil
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    models_dirs = {kind: Path(components[key]) for kind, key in (
        ("biophysical", "biophysical_neuron_models_dir"),
        ("point_process", "point_neuron_models_dir"),
        ("point_neuron", "point_neuron_models_dir")) if components.get(key)}
    node_entries, node_counts, node_types = [], {}, {}
    for index, entry in enumerate(nodes):
        nodes_file = _required_file(entry, "nodes_file", path, f"networks.nodes[{index}]")
        table = (read_type_table(Path(entry["node_types_file"]), "node_type_id")
                 if entry.get("node_types_file") else None)
        out = partial / f"nodes_{index}.h5"
        summaries = copy_nodes(nodes_file, table, out, models_dirs)
        declared = entry.get("populations", {})
        populations = {}
        for summary in summaries:
            node_counts[summary.name] = summary.size
            properties = dict(declared.get(summary.name, {}))
            properties.setdefault("type", _population_type(summary))
            populations[summary.name] = properties
            node_types[summary.name] = properties["type"]
        node_entries.append({"nodes_file": str(directory / out.name), "populations": populations})
    edge_entries = []
    synaptic_dir = Path(components["synaptic_models_dir"]) if components.get(
        "synaptic_models_dir") else None
    for index, entry in enumerate(edges):
        edges_file = _required_file(entry, "edges_file", path, f"networks.edges[{index}]")
        table = (read_type_table(Path(entry["edge_types_file"]), "edge_type_id")
                 if entry.get("edge_types_file") else None)
        out = partial / f"edges_{index}.h5"
        suffix = entry.get("source_suffix", "")
        if entry.get("spont_suffix") and all(
                node_types.get(s) not in (None, "virtual") for s in _edge_sources(edges_file)):
            suffix = entry["spont_suffix"]
        counts = {**node_counts, **{n + suffix: c for n, c in node_counts.items()}}
        summaries = copy_edges(edges_file, table, out, synaptic_dir, counts, suffix)
        for summary in summaries if suffix else ():
            if summary.source not in node_counts:  # a virtual copy of the replayed source
                copies = partial / f"nodes_{summary.source}.h5"
                write_virtual_nodes(copies, summary.source, counts[summary.source])
                node_counts[summary.source] = counts[summary.source]
                node_entries.append({"nodes_file": str(directory / copies.name),
                                     "populations": {summary.source: {"type": "virtual"}}})
        declared = entry.get("populations", {})
        populations = {s.name: {"type": "chemical", **declared.get(s.name, {})}
                       for s in summaries}
        edge_entries.append({"edges_file": str(directory / out.name), "populations": populations})
    strict = {"components": components, "networks": {"nodes": node_entries, "edges": edge_entries}}
    if raw.get("node_sets_file"):
        strict["node_sets_file"] = absolute(raw["node_sets_file"], path.parent)
    (partial / "circuit_config.json").write_text(json.dumps(strict, indent=2))
    (partial / "SOURCE").write_text(f"strict copy of {path}\n")
    try:
        partial.replace(directory)
    except OSError:
        if not (directory / "circuit_config.json").is_file():
            raise


def _edge_sources(edges_file: Path) -> set[str]:
    """The source node populations of an edges file's populations."""
    import h5py

    with h5py.File(edges_file, "r") as f:
        return {_text(p["source_node_id"].attrs.get("node_population", ""))
                for p in f.get("edges", {}).values() if "source_node_id" in p}


def _required_file(entry, key, config_file, where) -> Path:
    if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
        raise ConfigError(f"missing '{key}'", file=config_file, key=f"{where}.{key}")
    file = Path(entry[key])
    if not file.is_file():
        raise ConfigError(f"{file} not found", file=config_file, key=f"{where}.{key}")
    return file


def _population_type(summary) -> str:
    """The population's type from its nodes' model_type; one engine per node decides when
    they differ (the type is then that of most of them)."""
    kinds = [k for k in summary.model_types if k]
    if not kinds:
        return "biophysical"
    if len(kinds) == 1:
        return kinds[0]
    return "biophysical" if "biophysical" in kinds else kinds[0]
