"""The bmtk dialect: configs and circuits as the Allen Institute examples and bmtk write
them, read the way bmtk reads them and rewritten into the strict form libsonata reads.

Each leniency is reported once, naming the key (see `Leniencies`). What is rewritten:
* bmtk's `config.json` wrapper (`{"network": ..., "simulation": ...}`);
* manifests, with `${configdir}`, expanded here (all paths made absolute);
* a missing `run.random_seed` (0), `spikes_sort_order` `time`/`id`;
* spike inputs of modules h5 / sonata / csv as `synapse_replay` (their `node_set` names the
  source population; they reach every cell), `membrane_report` reports as compartment
  reports, `extracellular` reports as extracellular (ECP) reports;
* circuits whose node or edge files rely on type tables, list no populations, have several
  groups or no edges: a strict copy is written (strict_copy.py) and opened instead.
"""

import hashlib
import json
import re
from pathlib import Path

import libsonata
import numpy as np

from ..connectivity.replay import REPLAY_COPY_MARK
from ..errors import ConfigError
from ..reports.spikes import write_spikes
from .strict_copy import copy_edges, copy_nodes, write_virtual_nodes
from .type_tables import read_type_table

FORMAT = 2  # of the strict copies: a new value invalidates the cached ones
SPIKE_MODULES = {"h5", "sonata", "csv", "nwb"}
SORT_ORDERS = {"time": "by_time", "id": "by_id", "gid": "by_id", "by_gid": "by_id"}
ALL_NODES = "neurodamus_all_nodes"
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class Leniencies:
    """The warnings of one read, each once."""

    def __init__(self):
        self.items: list[str] = []

    def add(self, key: str, message: str):
        line = f"{key}: {message}"
        if line not in self.items:
            self.items.append(line)


def recognises(raw: dict, path: Path) -> bool:
    """Whether a simulation config needs this dialect (libsonata alone would reject it)."""
    if not isinstance(raw, dict):
        return False
    if isinstance(raw.get("simulation"), str) and "run" not in raw:
        return True  # the config.json wrapper
    run = raw.get("run")
    if isinstance(run, dict) and "random_seed" not in run:
        return True
    output = raw.get("output")
    if isinstance(output, dict) and output.get("spikes_sort_order") in SORT_ORDERS:
        return True
    if "${configdir}" in json.dumps(raw.get("manifest", {})):
        return True
    for entry in (raw.get("inputs") or {}).values():
        if isinstance(entry, dict) and entry.get("module") in SPIKE_MODULES:
            return True
    for entry in (raw.get("reports") or {}).values():
        if isinstance(entry, dict) and "type" not in entry and "module" in entry:
            return True
    network = raw.get("network")
    if isinstance(network, str):
        circuit = _expanded_path(network, raw, path.parent)
        if circuit.is_file():
            return circuit_needs_copy(_read_json(circuit, "network"))
    return False


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


# -- reading the JSON ---------------------------------------------------------------------

def _read_json(path: Path, key: str | None = None) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path} not found", key=key)
    try:
        content = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"not valid JSON: {error}", file=path) from None
    if not isinstance(content, dict):
        raise ConfigError("must be a JSON object", file=path)
    return content


def _manifest(raw: dict, config_dir: Path, file: Path) -> dict:
    """Manifest variables, expanded in order and made absolute (bmtk's `configdir` too)."""
    values = {"configdir": str(config_dir), "workingdir": str(Path.cwd())}
    manifest = raw.get("manifest", {})
    if not isinstance(manifest, dict):
        raise ConfigError("must be an object", file=file, key="manifest")
    for name, value in manifest.items():
        if not isinstance(value, str):
            raise ConfigError(f"must be a string, got {value!r}", file=file,
                              key=f"manifest.{name}")
        expanded = _substitute(value, values, file, f"manifest.{name}")
        path = Path(expanded)
        values[name.lstrip("$")] = str(path if path.is_absolute() else
                                       (config_dir / path).resolve())
    return values


def _substitute(text: str, values: dict, file: Path, key: str) -> str:
    def replace(match):
        name = match.group(1) or match.group(2)
        if name not in values:
            raise ConfigError(f"${name} is not in the manifest", file=file, key=key)
        return values[name]
    return _VARIABLE.sub(replace, text)


def _expand(node, values: dict, file: Path, key: str = ""):
    if isinstance(node, str):
        return _substitute(node, values, file, key) if "$" in node else node
    if isinstance(node, dict):
        return {k: _expand(v, values, file, f"{key}.{k}" if key else k) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, values, file, f"{key}[{i}]") for i, v in enumerate(node)]
    return node


def _expanded_path(value: str, raw: dict, config_dir: Path) -> Path:
    try:
        text = _substitute(value, _manifest(raw, config_dir, config_dir), config_dir, "network")
    except ConfigError:
        return Path(value)
    path = Path(text)
    return path if path.is_absolute() else (config_dir / path).resolve()


def _absolute(value, base: Path):
    if not isinstance(value, str) or not value:
        return value
    path = Path(value)
    return str(path if path.is_absolute() else (base / path).resolve())


# -- the simulation config ----------------------------------------------------------------

def read(path: Path, cache_root: Path, may_write: bool):
    """(rewritten simulation config, its directory, the circuit config to open, leniencies)."""
    leniencies = Leniencies()
    raw = _read_json(path)
    config_file = path
    if isinstance(raw.get("simulation"), str) and "run" not in raw:
        simulation = Path(_absolute(raw["simulation"], path.parent))
        leniencies.add("simulation", f"bmtk's config wrapper: the simulation is {simulation}")
        inner = _read_json(simulation, "simulation")
        if "network" not in inner and isinstance(raw.get("network"), str):
            inner["network"] = _absolute(raw["network"], path.parent)
        raw, config_file = inner, simulation
    config_dir = config_file.parent
    if "${configdir}" in json.dumps(raw.get("manifest", {})):
        leniencies.add("manifest", "${configdir} read as the config's directory (bmtk)")
    values = _manifest(raw, config_dir, config_file)
    raw = _expand({k: v for k, v in raw.items() if k != "manifest"}, values, config_file)
    if not isinstance(raw.get("network"), str) and isinstance(raw.get("networks"), dict):
        raw["network"] = str(config_file)
        leniencies.add("networks", "the simulation config holds the circuit too (bmtk)")
    if not isinstance(raw.get("network"), str):
        raise ConfigError("no 'network' (the circuit config): with bmtk, run the config.json "
                          "that names both the network and the simulation", file=config_file,
                          key="network")
    raw["network"] = _absolute(raw["network"], config_dir)
    run = raw.get("run")
    if isinstance(run, dict) and "random_seed" not in run:
        raw["run"] = {**run, "random_seed": 0}
        leniencies.add("run.random_seed", "missing: 0 is used")
    output = raw.get("output")
    if isinstance(output, dict):
        order = output.get("spikes_sort_order")
        if order in SORT_ORDERS:
            output = {**output, "spikes_sort_order": SORT_ORDERS[order]}
            leniencies.add("output.spikes_sort_order", f"'{order}' read as "
                                                       f"'{SORT_ORDERS[order]}'")
        for key in ("spikes_file_csv", "spikes_file_nwb"):
            if key in output:
                output = {k: v for k, v in output.items() if k != key}
                leniencies.add(f"output.{key}", "not written (the spikes are in spikes_file)")
        raw["output"] = output
    replays = _replay_edges(raw, config_file, config_dir)
    circuit_file, populations = _circuit(Path(raw["network"]), cache_root, may_write, leniencies,
                                         replays)
    raw["network"] = str(circuit_file)
    raw = _inputs_and_reports(raw, config_file, config_dir, populations, cache_root, may_write,
                              leniencies)
    return raw, config_dir, config_file, tuple(leniencies.items)


def _inputs_and_reports(raw, config_file, config_dir, populations, cache_root, may_write,
                        leniencies):
    inputs = raw.get("inputs")
    replays = False
    extra_sets: dict = {}  # node sets the inputs name inline, by generated name
    if isinstance(inputs, dict):
        rewritten = {}
        for name, entry in inputs.items():
            if isinstance(entry, dict) and entry.get("module") in SPIKE_MODULES:
                entry = _spike_input(name, entry, raw, config_file, config_dir, populations,
                                     cache_root, may_write, leniencies)
                replays = True
            elif isinstance(entry, dict) and entry.get("module") == "replay":
                entry = _replay_input(name, entry, raw, config_file, config_dir, extra_sets,
                                      cache_root, may_write, leniencies)
                replays = True
            rewritten[name] = entry
        raw["inputs"] = rewritten
    reports = raw.get("reports")
    if isinstance(reports, dict):
        raw["reports"] = {name: _report(name, entry, raw, config_file, leniencies)
                          for name, entry in reports.items()}
    if replays or _uses_population_names(raw, populations):
        raw["node_sets_file"] = str(_node_sets(raw, config_file, config_dir, populations,
                                               cache_root, may_write, extra_sets))
    return raw


def _uses_population_names(raw, populations) -> bool:
    names = [entry.get("cells") for entry in (raw.get("reports") or {}).values()
             if isinstance(entry, dict)]
    names += [entry.get("node_set") for entry in (raw.get("inputs") or {}).values()
              if isinstance(entry, dict)]
    return any(name in populations for name in names if isinstance(name, str))


def _spike_input(name, entry, raw, config_file, config_dir, populations, cache_root,
                 may_write, leniencies) -> dict:
    key = f"inputs.{name}"
    module = entry["module"]
    if module == "nwb":
        raise ConfigError("NWB spike inputs are not supported (no maintained NWB spike reader "
                          "is installed): convert the spikes to a SONATA .h5 file",
                          file=config_file, key=f"{key}.module")
    spike_file = entry.get("input_file")
    if not isinstance(spike_file, str):
        raise ConfigError("missing mandatory key (the spike file)", file=config_file,
                          key=f"{key}.input_file")
    spike_file = Path(_absolute(spike_file, config_dir))
    if module == "csv":
        spike_file = _csv_spikes_as_sonata(spike_file, cache_root, may_write, f"{key}.input_file")
    source = _source_population(entry.get("node_set"), raw, config_dir, populations)
    tstop = raw.get("run", {}).get("tstop", 0.0)
    leniencies.add(f"{key}.module", f"bmtk's '{module}' spike input read as synapse_replay "
                                    f"from {source or 'the populations of the file'} onto "
                                    "every cell")
    out = {"module": "synapse_replay", "input_type": "spikes", "spike_file": str(spike_file),
           "node_set": ALL_NODES, "delay": 0.0,
           "duration": float(tstop) if isinstance(tstop, (int, float)) else tstop}
    if source:
        out["source"] = source
    return out


def _replay_edges(raw, config_file, config_dir) -> list:
    """(suffix, edges entry) of every bmtk `replay` input: its edges connect virtual copies
    of the recorded sources (population + suffix) to the simulated cells."""
    out = []
    for name, entry in (raw.get("inputs") or {}).items():
        if not isinstance(entry, dict) or entry.get("module") != "replay":
            continue
        edges = entry.get("edges")
        if not isinstance(edges, dict) or not isinstance(edges.get("edges_file"), str):
            raise ConfigError("a replay input needs 'edges' with an 'edges_file'",
                              file=config_file, key=f"inputs.{name}.edges")
        out.append((f"{REPLAY_COPY_MARK}{name}", {k: _absolute(v, config_dir) for k, v in edges.items()}))
    return out


def _replay_input(name, entry, raw, config_file, config_dir, extra_sets, cache_root,
                  may_write, leniencies) -> dict:
    """bmtk's `replay`: the recorded spikes of `source_node_set` through the input's own
    edges onto `target_node_set` (both 'all' by default), as synapse_replay from the virtual
    copies that _replay_edges adds."""
    key = f"inputs.{name}"
    suffix = f"{REPLAY_COPY_MARK}{name}"
    spikes_file = entry.get("spikes_file")
    if not isinstance(spikes_file, str):
        raise ConfigError("missing mandatory key", file=config_file, key=f"{key}.spikes_file")
    spikes_file = Path(_absolute(spikes_file, config_dir))
    if "node_set" in entry:
        leniencies.add(f"{key}.node_set", "not used by bmtk's replay (source_node_set and "
                                          "target_node_set are)")
    strict = Path(raw["network"])
    sources = _node_ids_of(entry.get("source_node_set", "all"), raw, config_dir, strict,
                           f"{key}.source_node_set")
    copies = {name for name in libsonata.CircuitConfig.from_file(str(strict)).node_populations
              if name.endswith(suffix)}
    out_file = _renamed_spikes(spikes_file, sources, suffix, copies, cache_root, may_write,
                               f"{key}.spikes_file")
    target = entry.get("target_node_set", "all")
    if isinstance(target, dict):
        extra_sets[f"neurodamus_{name}_targets"] = target
        target = f"neurodamus_{name}_targets"
    elif target == "all":
        target = ALL_NODES
    leniencies.add(f"{key}.module", "bmtk's replay read as synapse_replay through its edges "
                                    "from virtual copies of the recorded cells")
    tstop = raw.get("run", {}).get("tstop", 0.0)
    return {"module": "synapse_replay", "input_type": "spikes", "spike_file": str(out_file),
            "node_set": target, "delay": 0.0,
            "duration": float(tstop) if isinstance(tstop, (int, float)) else tstop}


def _node_ids_of(node_set, raw, config_dir, circuit_file: Path, key: str) -> dict | None:
    """{population: node ids} a bmtk node set (inline object, name, or 'all') selects; None:
    every node."""
    if node_set == "all":
        return None
    if isinstance(node_set, dict):
        definition = node_set
    else:
        given = raw.get("node_sets_file")
        sets = _read_json(Path(_absolute(given, config_dir))) if isinstance(given, str) else {}
        if node_set not in sets:
            raise ConfigError(f"node set {node_set!r} is not defined", key=key)
        definition = sets[node_set]
    try:
        node_sets = libsonata.NodeSets(json.dumps({"selected": definition}))
        circuit = libsonata.CircuitConfig.from_file(str(circuit_file))
        return {name: np.asarray(node_sets.materialize(
                    "selected", circuit.node_population(name)).flatten(), np.int64)
                for name in circuit.node_populations if REPLAY_COPY_MARK not in name}
    except (libsonata.SonataError, RuntimeError) as error:
        raise ConfigError(f"cannot select the node set: {error}", key=key) from None


def _renamed_spikes(path: Path, sources: dict | None, suffix: str, copies: set[str],
                    cache_root: Path, may_write: bool, key: str) -> Path:
    """The spike file with each population renamed population + suffix, restricted to the
    selected sources that have virtual copies (`copies`), written to the cache."""
    from ..connectivity.replay import read_spike_file

    if not path.is_file():
        raise ConfigError(f"spike file {path} not found", key=key)
    stat = path.stat()
    selection = json.dumps([{k: v.tolist() for k, v in (sources or {}).items()},
                            sorted(copies)], sort_keys=True)
    digest = hashlib.sha256(f"{FORMAT}:{path}:{stat.st_size}:{stat.st_mtime_ns}:{suffix}:"
                            f"{selection}".encode()).hexdigest()[:24]
    out = cache_root / "spikes" / f"{digest}.h5"
    if out.is_file() or not may_write:
        return out
    spikes = read_spike_file(path, None, key.split(".")[1])
    renamed = {}
    for population, (times, node_ids) in spikes.items():
        if population + suffix not in copies:
            continue
        if sources is not None:
            keep = np.isin(node_ids, sources.get(population, np.zeros(0, np.int64)))
            times, node_ids = times[keep], node_ids[keep]
        renamed[population + suffix] = (times, node_ids)
    write_spikes(out, renamed, "none")
    return out


def _source_population(node_set, raw, config_dir, populations) -> str | None:
    """bmtk's spike inputs name the nodes that spike: a population or a node set of one."""
    if not isinstance(node_set, str):
        return None
    if node_set in populations:
        return node_set
    node_sets_file = raw.get("node_sets_file")
    if isinstance(node_sets_file, str) and Path(node_sets_file).is_file():
        try:
            definition = json.loads(Path(node_sets_file).read_text()).get(node_set)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            return None
        if isinstance(definition, dict) and isinstance(definition.get("population"), str):
            return definition["population"]
    return None


def _csv_spikes_as_sonata(path: Path, cache_root: Path, may_write: bool, key: str) -> Path:
    """bmtk's CSV spikes (`timestamps population node_ids`, space separated) as a SONATA
    spike file in the cache."""
    if not path.is_file():
        raise ConfigError(f"spike file {path} not found", key=key)
    stat = path.stat()
    digest = hashlib.sha256(f"{FORMAT}:{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    out = cache_root / "spikes" / f"{digest.hexdigest()[:24]}.h5"
    if out.is_file() or not may_write:
        return out
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not lines or not {"timestamps", "node_ids"} <= set(lines[0]):
        raise ConfigError("a CSV spike file needs a header with timestamps and node_ids "
                          "(and population)", file=path, key=key)
    header = lines[0]
    columns = {name: [row[i] for row in lines[1:]] for i, name in enumerate(header)}
    try:
        times = np.asarray(columns["timestamps"], float)
        node_ids = np.asarray(columns["node_ids"], np.int64)
    except ValueError as error:
        raise ConfigError(f"not numbers: {error}", file=path, key=key) from None
    names = np.asarray(columns.get("population", ["default"] * len(times)))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_spikes(out, {name: (times[names == name], node_ids[names == name])
                       for name in sorted(set(names.tolist()))}, "none")
    return out


def _report(name, entry, raw, config_file, leniencies):
    if not isinstance(entry, dict) or "type" in entry:
        return entry
    module = entry.get("module")
    key = f"reports.{name}"
    run = raw.get("run", {})
    if module == "extracellular":
        # bmtk's ECP: the line-source potential of every segment's membrane current at the
        # electrodes, at every step; carried through libsonata as a summation of i_membrane
        # over all compartments, told apart by electrode_positions (reports.extracellular).
        out = {k: v for k, v in entry.items() if k not in ("module", "variable_name")}
        positions = entry.get("electrode_positions")
        out.update(type="summation", variable_name="i_membrane", sections="all",
                   compartments="all", scaling="none",
                   electrode_positions=_absolute(positions, config_file.parent),
                   start_time=entry.get("start_time", 0.0),
                   end_time=entry.get("end_time", run.get("tstop", 0.0)),
                   dt=entry.get("dt", run.get("dt", 0.1)))
        leniencies.add(f"{key}.module", "bmtk's extracellular report read as an extracellular "
                                        "report (line-source potentials of i_membrane)")
        if entry.get("variable_name", "i_membrane") not in ("i_membrane", "i_membrane_"):
            leniencies.add(f"{key}.variable_name", f"{entry['variable_name']!r} not used: the "
                                                   "potential comes from the membrane current")
        return out
    if module != "membrane_report":
        return entry
    sections = entry.get("sections", "soma")
    out = {k: v for k, v in entry.items() if k not in ("module", "sections", "file_name")}
    out.update(type="compartment", sections="soma" if sections == "soma" else "all",
               compartments="center" if sections == "soma" else "all",
               start_time=entry.get("start_time", 0.0),
               end_time=entry.get("end_time", run.get("tstop", 0.0)),
               dt=entry.get("dt", run.get("dt", 0.1)))
    if isinstance(out.get("variable_name"), list):
        out["variable_name"] = ",".join(out["variable_name"])
    leniencies.add(f"{key}.module", "bmtk's membrane_report read as a compartment report of "
                                    f"{'the soma' if sections == 'soma' else 'every compartment'}")
    return out


def _node_sets(raw, config_file, config_dir, populations, cache_root, may_write,
               extra_sets) -> Path:
    """The simulation's node sets plus one per population name (bmtk lets node_set name a
    population) and ALL_NODES (the targets of spike inputs), written to the cache."""
    sets = {}
    given = raw.get("node_sets_file")
    if isinstance(given, str) and given:
        given_path = Path(_absolute(given, config_dir))
        sets = _read_json(given_path, "node_sets_file")
    added = {name: {"population": name} for name in populations if name not in sets}
    added[ALL_NODES] = {"population": sorted(populations)}
    added.update(extra_sets)
    content = json.dumps({**added, **sets}, indent=1, sort_keys=True)
    digest = hashlib.sha256(content.encode()).hexdigest()[:24]
    out = cache_root / "node_sets" / f"{digest}.json"
    if may_write and not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial")
        partial.write_text(content)
        partial.replace(out)
    return out


# -- the circuit ------------------------------------------------------------------------

def _circuit(path: Path, cache_root: Path, may_write: bool, leniencies, replays=()):
    """(the circuit config to open, its node population names); `replays`: (suffix, edge
    file entry) of bmtk replay inputs, added as edges from virtual copies of their sources."""
    raw = _read_json(path, "network")
    if not circuit_needs_copy(raw) and not replays:
        return path, _population_names(raw, path)
    values = _manifest(raw, path.parent, path)
    raw = _expand({k: v for k, v in raw.items() if k != "manifest"}, values, path)
    components = {k: _absolute(v, path.parent) for k, v in raw.get("components", {}).items()}
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
    return strict, _population_names(_read_json(strict), strict)


def _absolute_entry(entry, base: Path) -> dict:
    if not isinstance(entry, dict):
        return entry
    files = ("nodes_file", "node_types_file", "edges_file", "edge_types_file")
    return {k: _absolute(v, base) if k in files else v for k, v in entry.items()}


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
    stats = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) if f.is_file() else (str(f),)
             for f in files]
    text = json.dumps([FORMAT, str(path), raw, nodes, edges, stats], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


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
    node_entries, node_counts = [], {}
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
        strict["node_sets_file"] = _absolute(raw["node_sets_file"], path.parent)
    (partial / "circuit_config.json").write_text(json.dumps(strict, indent=2))
    (partial / "SOURCE").write_text(f"strict copy of {path}\n")
    try:
        partial.replace(directory)
    except OSError:
        if not (directory / "circuit_config.json").is_file():
            raise


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
