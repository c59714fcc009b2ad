"""bmtk's inputs and reports in SONATA terms: spike inputs as synapse_replay, `replay`
through virtual copies of the recorded cells, membrane and extracellular reports, and the
node sets they need (a population name is a node set in bmtk)."""

import json
from dataclasses import dataclass
from pathlib import Path

import libsonata
import numpy as np

from ..connectivity.replay import REPLAY_COPY_MARK
from ..errors import ConfigError
from ..reports.spikes import write_spikes
from .bmtk_clamps import current_clamps, voltage_clamps
from .bmtk_json import ALL_NODES, absolute, content_key, read_json
from .bmtk_spont import spont_activity

SPIKE_MODULES = {"h5", "sonata", "csv", "nwb"}
BMTK_ALL = "all"


@dataclass
class InputContext:
    """What the input rewrites of one read share."""
    raw: dict
    config_file: Path
    config_dir: Path
    populations: list
    cache_root: Path
    may_write: bool
    leniencies: object
    extra_sets: dict
    sizes: dict  # node population -> size
    replays: bool = False  # whether some input became a synapse_replay


def _spikes(name, entry, ctx) -> dict:
    ctx.replays = True
    out = _spike_input(name, entry, ctx.raw, ctx.config_file, ctx.config_dir, ctx.populations,
                       ctx.cache_root, ctx.may_write, ctx.leniencies)
    out["spike_file"] = str(_within_populations(Path(out["spike_file"]), out.get("source"),
                                                ctx, f"inputs.{name}.input_file"))
    return {name: out}


def _within_populations(path: Path, source, ctx, key: str) -> Path:
    """The spike file without the spikes of nodes beyond their population (bmtk skips
    them; a SONATA spike input may not name them), said once; the file itself when it has
    none, or when it names populations the circuit lacks (the strict check says so)."""
    from ..connectivity.replay import read_spike_file

    if not path.is_file():
        return path
    spikes = read_spike_file(path, source, key.split(".")[1])
    if not set(spikes) <= set(ctx.sizes):
        return path
    beyond = {p: int(np.count_nonzero((ids < 0) | (ids >= ctx.sizes[p])))
              for p, (_, ids) in spikes.items()}
    if not any(beyond.values()):
        return path
    said = ", ".join(f"{n} of population '{p}' ({ctx.sizes[p]} nodes)"
                     for p, n in beyond.items() if n)
    ctx.leniencies.add(key, f"spikes of nodes beyond their population skipped (bmtk skips "
                            f"them): {said}")
    out = ctx.cache_root / "spikes" / f"{content_key([path], 'within', source, ctx.sizes)}.h5"
    if ctx.may_write and not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        kept = {p: (t[(ids >= 0) & (ids < ctx.sizes[p])], ids[(ids >= 0) & (ids < ctx.sizes[p])])
                for p, (t, ids) in spikes.items()}
        write_spikes(out, kept, "none")
    return out


def _replay(name, entry, ctx) -> dict:
    ctx.replays = True
    return {name: _replay_input(name, entry, ctx.raw, ctx.config_file, ctx.config_dir,
                                ctx.extra_sets, ctx.cache_root, ctx.may_write, ctx.leniencies)}


def _xstim(name, entry, ctx) -> dict:
    """bmtk's xstim: every compartmental cell (bmtk does not read the node_set), the files
    made absolute; the stimulus module `xstim` does the rest."""
    key = f"inputs.{name}"
    for field in ("positions_file", "waveform"):
        if field not in entry:
            raise ConfigError("missing mandatory key", file=ctx.config_file,
                              key=f"{key}.{field}")
    out = {k: v for k, v in entry.items() if k not in ("node_set", "cells",
                                                       "set_nrn_mechanisms")}
    for field in ("positions_file", "mesh_files_dir", "waveform"):
        if isinstance(out.get(field), str):
            out[field] = absolute(out[field], ctx.config_dir)
    tstop = ctx.raw.get("run", {}).get("tstop", 0.0)
    out.update(node_set=BMTK_ALL, input_type="extracellular_stimulation", delay=0.0,
               duration=float(tstop) if isinstance(tstop, (int, float)) else tstop)
    ctx.leniencies.add(f"{key}.module", "bmtk's xstim: electrodes' potentials in every "
                                        "compartmental cell (node_set not used, as in bmtk)")
    ctx.replays = True  # the node set 'all' is written
    return {name: out}


def _unsupported(what: str):
    def refuse(name, entry, ctx):
        raise ConfigError(f"bmtk's input module '{entry['module']}' is not supported ({what})",
                          file=ctx.config_file, key=f"inputs.{name}.module")
    return refuse


# bmtk input modules -> (name, entry, InputContext) -> {name: SONATA input entry}; modules
# not listed go to the strict reader as written.
INPUT_MODULES = {
    **{module: _spikes for module in SPIKE_MODULES},
    "replay": _replay,
    "IClamp": current_clamps,
    "SEClamp": voltage_clamps,
    "syn_activity": spont_activity,
    "xstim": _xstim,
    "comsol": _unsupported("COMSOL field files"),
    "ecephys_probe": _unsupported("Neuropixels unit spikes from NWB sessions"),
}


def inputs_and_reports(raw, config_file, config_dir, populations, cache_root, may_write,
                        leniencies, extra_sets: dict, sizes: dict):
    """`extra_sets`: node sets the config writes in place, by generated name; `sizes`:
    node population -> size."""
    inputs = raw.get("inputs")
    ctx = InputContext(raw, config_file, config_dir, populations, cache_root, may_write,
                       leniencies, extra_sets, sizes)
    if isinstance(inputs, dict):
        rewritten = {}
        for name, entry in inputs.items():
            module = entry.get("module") if isinstance(entry, dict) else None
            if module in INPUT_MODULES:
                rewritten.update(INPUT_MODULES[module](name, entry, ctx))
            else:
                rewritten[name] = entry
        raw["inputs"] = rewritten
    replays = ctx.replays
    reports = raw.get("reports")
    if isinstance(reports, dict):
        raw["reports"] = {name: _report(name, entry, raw, config_file, leniencies)
                          for name, entry in reports.items()}
    if replays or extra_sets or _uses_population_names(raw, populations):
        raw["node_sets_file"] = str(_node_sets(raw, config_file, config_dir, populations,
                                               cache_root, may_write, extra_sets))
    return raw


def _uses_population_names(raw, populations) -> bool:
    names = [entry.get("cells") for entry in (raw.get("reports") or {}).values()
             if isinstance(entry, dict)]
    names += [entry.get("node_set") for entry in (raw.get("inputs") or {}).values()
              if isinstance(entry, dict)]
    names.append(raw.get("node_set"))
    return any(name in populations or name == BMTK_ALL for name in names
               if isinstance(name, str))


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
    spike_file = Path(absolute(spike_file, config_dir))
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


def replay_edges(raw, config_file, config_dir) -> list:
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
        out.append((f"{REPLAY_COPY_MARK}{name}",
                    {k: absolute(v, config_dir) for k, v in edges.items()}))
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
    spikes_file = Path(absolute(spikes_file, config_dir))
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
        sets = read_json(Path(absolute(given, config_dir))) if isinstance(given, str) else {}
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
    selection = {k: v.tolist() for k, v in (sources or {}).items()}
    out = cache_root / "spikes" / f"{content_key([path], suffix, selection, sorted(copies))}.h5"
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
    out = cache_root / "spikes" / f"{content_key([path], 'csv')}.h5"
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
    if module in UNSUPPORTED_REPORTS:
        raise ConfigError(f"bmtk's report module '{module}' is not supported "
                          f"({UNSUPPORTED_REPORTS[module]})", file=config_file,
                          key=f"{key}.module")
    if module not in REPORT_MODULES:
        return entry
    run = raw.get("run", {})
    window = {"start_time": entry.get("start_time", 0.0),
              "end_time": entry.get("end_time", run.get("tstop", 0.0)),
              "dt": entry.get("dt", run.get("dt", 0.1))}
    return REPORT_MODULES[module](key, entry, window, config_file, leniencies)


def _extracellular(key, entry, window, config_file, leniencies):
    """bmtk's ECP: the line-source potential of every segment's membrane current at the
    electrodes, at every step; carried through libsonata as a summation of i_membrane
    over all compartments, told apart by electrode_positions (reports.extracellular)."""
    out = {k: v for k, v in entry.items() if k not in ("module", "variable_name")}
    channels = out.get("electrode_channels")
    if channels is not None and channels != "all" and not isinstance(channels, list):
        del out["electrode_channels"]
        leniencies.add(f"{key}.electrode_channels", f"{channels!r} not used: bmtk records "
                                                    "every channel")
    positions = entry.get("electrode_positions")
    out.update(type="summation", variable_name="i_membrane", sections="all",
               compartments="all", scaling="none",
               electrode_positions=absolute(positions, config_file.parent), **window)
    leniencies.add(f"{key}.module", "bmtk's extracellular report read as an extracellular "
                                    "report (line-source potentials of i_membrane)")
    if entry.get("variable_name", "i_membrane") not in ("i_membrane", "i_membrane_"):
        leniencies.add(f"{key}.variable_name", f"{entry['variable_name']!r} not used: the "
                                               "potential comes from the membrane current")
    return out


def _membrane(key, entry, window, config_file, leniencies):
    sections = entry.get("sections", "soma")
    out = {k: v for k, v in entry.items() if k not in ("module", "sections", "transform")}
    transform = entry.get("transform")
    if transform is not None:
        functions = set(transform.values()) if isinstance(transform, dict) else {transform}
        if functions != {"first_element"}:
            raise ConfigError(f"only bmtk's 'first_element' transform is supported, got "
                              f"{transform!r}", file=config_file, key=f"{key}.transform")
        leniencies.add(f"{key}.transform", "first_element: an array variable's first "
                                           "element is what is recorded")
    out.update(type="compartment", sections="soma" if sections == "soma" else "all",
               compartments="center" if sections == "soma" else "all", **window)
    if isinstance(out.get("variable_name"), list):
        out["variable_name"] = ",".join(out["variable_name"])
    leniencies.add(f"{key}.module", "bmtk's membrane_report read as a compartment report of "
                                    f"{'the soma' if sections == 'soma' else 'every compartment'}")
    return out


def _netcon(key, entry, window, config_file, leniencies):
    """bmtk's netcon_report: one variable of every synapse of `syn_type` (Exp2Syn by
    default) on the cells, as a synapse report."""
    variable = entry.get("variable_name")
    if isinstance(variable, list):
        variable = variable[0] if len(variable) == 1 else None
    if not isinstance(variable, str):
        raise ConfigError("a netcon_report records one variable", file=config_file,
                          key=f"{key}.variable_name")
    syn_type = entry.get("syn_type", "Exp2Syn")
    out = {k: v for k, v in entry.items() if k not in ("module", "sections", "syn_type")}
    out.update(type="synapse", variable_name=f"{syn_type}.{variable}", sections="soma",
               compartments="center", **window)
    leniencies.add(f"{key}.module", f"bmtk's netcon_report read as a synapse report of "
                                    f"{syn_type}.{variable}")
    return out


# bmtk report modules -> the rewrite into a SONATA report.
REPORT_MODULES = {"extracellular": _extracellular, "membrane_report": _membrane,
                  "netcon_report": _netcon}
UNSUPPORTED_REPORTS = {"save_synapses": "the synapse table is not written",
                       "clamp_report": "SEClamp currents are not recorded"}


def _node_sets(raw, config_file, config_dir, populations, cache_root, may_write,
               extra_sets) -> Path:
    """The simulation's node sets plus one per population name (bmtk lets node_set name a
    population) and ALL_NODES (the targets of spike inputs), written to the cache."""
    sets = {}
    given = raw.get("node_sets_file")
    if isinstance(given, str) and given:
        given_path = Path(absolute(given, config_dir))
        sets = read_json(given_path, "node_sets_file")
    added = {name: {"population": name} for name in populations if name not in sets}
    added[ALL_NODES] = {"population": sorted(populations)}
    added[BMTK_ALL] = added[ALL_NODES]  # bmtk's predefined node set
    added.update(extra_sets)
    content = json.dumps({**added, **sets}, indent=1, sort_keys=True)
    out = cache_root / "node_sets" / f"{content_key([], content)}.json"
    if may_write and not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial")
        partial.write_text(content)
        partial.replace(out)
    return out
