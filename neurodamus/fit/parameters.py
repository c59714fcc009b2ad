"""Where a fitted parameter applies, and the simulation config a candidate runs.

A candidate is never applied by reaching into NEURON: its values are written into a copy of
the simulation config through the config's own mechanisms (inputs, conditions.mechanisms,
conditions.modifications, connection_overrides, any other key), so the driver builds it as
it builds any run, and the best candidate's config is the ready-to-run fitted config. What
no config key reaches (a gap junction's conductance, a node's dynamics_params) is written
into a copy of the circuit's HDF5 file, and the candidate's config names that copy.

Each kind of `apply` is an entry of APPLY_KINDS: `check` looks at its fields when the spec is
read, `check_config` at the simulation config before the fit starts, `apply` writes a value.
"""

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import libsonata
import numpy as np

from ..config.checks import ProblemList
from ..errors import ConfigError
from ..registry import Registry

OVERRIDE_FIELDS = ("weight", "synapse_delay_override", "spont_minis",
                   "neuromodulation_dtc", "neuromodulation_strength")


class ApplyKind:
    """One way of applying a value; `fields` are required, `optional` may be given."""

    fields: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def check(self, where: dict, key: str, problems: ProblemList):
        for name in self.fields:
            if not isinstance(where.get(name), str) or not where.get(name):
                problems.add("is required (a name)", key=f"{key}.{name}")
        for name in sorted(set(where) - set(self.fields) - set(self.optional)):
            known = ", ".join((*self.fields, *self.optional))
            problems.add(f"unknown field (known: {known})", key=f"{key}.{name}")

    def check_config(self, where: dict, config: dict, key: str, problems: ProblemList):
        """The simulation config has what `where` names."""

    def apply(self, config: dict, where: dict, value: float, parameter: str):
        raise NotImplementedError


@dataclass(frozen=True)
class CircuitChange:
    """A value written into a copy of one of the circuit's HDF5 files (circuit kinds)."""

    file: Path
    dataset: str
    rows: np.ndarray | None  # None: every row
    scale: bool  # multiply the file's values, else replace them
    value: float


APPLY_KINDS: Registry[str, ApplyKind] = Registry("parameter kind", "apply")


class InputField(ApplyKind):
    """A number of one of the config's inputs: `{input: NAME, field: amp_start}`."""

    fields = ("input", "field")

    def check_config(self, where, config, key, problems):
        if where["input"] not in config.get("inputs", {}):
            problems.add(f"the simulation config has no input '{where['input']}' (it has: "
                         f"{', '.join(config.get('inputs', {})) or 'none'})", key=f"{key}.input")

    def apply(self, config, where, value, parameter):
        config["inputs"][where["input"]][where["field"]] = value


class MechanismGlobal(ApplyKind):
    """A mechanism's global, as conditions.mechanisms sets it: `{suffix: ProbAMPANMDA_EMS,
    variable: init_depleted}`."""

    fields = ("suffix", "variable")

    def apply(self, config, where, value, parameter):
        mechanisms = config.setdefault("conditions", {}).setdefault("mechanisms", {})
        mechanisms.setdefault(where["suffix"], {})[where["variable"]] = value


class SectionVariable(ApplyKind):
    """A section or range variable of the cells of a node set, in every section or one
    section list, as a conditions.modifications entry: `{node_set: exc, variable: g_pas,
    section_list: somatic}` (configure_all_sections without section_list)."""

    fields = ("node_set", "variable")
    optional = ("section_list",)

    def apply(self, config, where, value, parameter):
        section_list = where.get("section_list")
        entry = {"name": f"fit_{parameter}", "node_set": where["node_set"],
                 "type": "section_list" if section_list else "configure_all_sections",
                 "section_configure": f"{section_list or '%s'}.{where['variable']} = "
                                      f"{float(value)!r}"}
        modifications = config.setdefault("conditions", {}).setdefault("modifications", [])
        modifications.append(entry)


class OverrideField(ApplyKind):
    """The synapses between two node sets, as a connection_overrides entry: `{source: exc,
    target: inh, field: weight}` (a field of the override: weight, synapse_delay_override,
    ...) or `{..., variable: tau_d_AMPA}` (a variable of the synapses, by
    synapse_configure). With `name` of an override the config has, that entry is changed
    instead; otherwise an entry is added after the config's own (a weight then multiplies
    theirs, as overrides do)."""

    optional = ("source", "target", "name", "field", "variable")

    def check(self, where, key, problems):
        super().check(where, key, problems)
        if ("field" in where) == ("variable" in where):
            problems.add("give one of field (an override's number: "
                         f"{', '.join(OVERRIDE_FIELDS)}) or variable (a synapse variable)",
                         key=key)
        elif "field" in where and where["field"] not in OVERRIDE_FIELDS:
            problems.add(f"must be one of {', '.join(OVERRIDE_FIELDS)}, got "
                         f"{where['field']!r}", key=f"{key}.field")
        if "name" not in where and not ("source" in where and "target" in where):
            problems.add("give source and target node sets, or the name of an override of "
                         "the simulation config", key=key)

    def check_config(self, where, config, key, problems):
        if "name" in where and not any(o.get("name") == where["name"]
                                       for o in config.get("connection_overrides", [])):
            problems.add(f"the simulation config has no connection override named "
                         f"'{where['name']}'", key=f"{key}.name")

    def apply(self, config, where, value, parameter):
        overrides = config.setdefault("connection_overrides", [])
        entry = next((o for o in overrides if "name" in where and o.get("name") == where["name"]),
                     None)
        if entry is None:
            entry = {"name": f"fit_{parameter}", "source": where["source"],
                     "target": where["target"]}
            overrides.append(entry)
        if "field" in where:
            entry[where["field"]] = value
        else:
            statement = f"%s.{where['variable']} = {float(value)!r}"
            before = entry.get("synapse_configure")
            entry["synapse_configure"] = f"{before}; {statement}" if before else statement


class ConfigKey(ApplyKind):
    """Any number of the simulation config by its dotted key: `{key: conditions.celsius}`
    or `{key: inputs.step.amp_start}`."""

    fields = ("key",)

    def check_config(self, where, config, key, problems):
        node: Any = config
        for part in where["key"].split(".")[:-1]:
            if not isinstance(node, dict) or part not in node:
                problems.add(f"the simulation config has no '{part}' on the way to "
                             f"'{where['key']}'", key=f"{key}.key")
                return
            node = node[part]

    def apply(self, config, where, value, parameter):
        node = config
        *path, last = where["key"].split(".")
        for part in path:
            node = node[part]
        node[last] = value


class CircuitAttribute(ApplyKind):
    """An attribute of the circuit's nodes or edges, for what the simulation config has no
    key for (a gap junction's conductance, a node's dynamics_params): the candidate runs a
    copy of the HDF5 file with the attribute changed, `mode` scale (the default: the value
    multiplies the file's, keeping their spread) or set. `attribute` is its name in the
    population's group 0, e.g. conductance or dynamics_params/holding_current."""

    side = ""  # nodes | edges
    fields = ("population", "attribute")
    optional: tuple[str, ...] = ("mode",)

    def check(self, where, key, problems):
        super().check(where, key, problems)
        if where.get("mode", "scale") not in ("scale", "set"):
            problems.add(f"must be scale or set, got {where['mode']!r}", key=f"{key}.mode")

    def _file(self, config: dict, population: str) -> Path | None:
        circuit = libsonata.CircuitConfig.from_file(config["network"])
        names = (circuit.node_populations if self.side == "nodes"
                 else circuit.edge_populations)
        if population not in names:
            return None
        properties = (circuit.node_population_properties(population) if self.side == "nodes"
                      else circuit.edge_population_properties(population))
        return Path(properties.elements_path)

    def rows(self, config: dict, where: dict, size: int):
        return None

    def check_config(self, where, config, key, problems):
        file = self._file(config, where["population"])
        if file is None:
            problems.add(f"the circuit has no {self.side} population '{where['population']}'",
                         key=f"{key}.population")
            return
        dataset = f"{self.side}/{where['population']}/0/{where['attribute']}"
        with h5py.File(file, "r") as opened:
            if dataset not in opened:
                problems.add(f"{file} has no {dataset}", key=f"{key}.attribute")

    def apply(self, config, where, value, parameter):
        file = self._file(config, where["population"])
        assert file is not None  # check_config made sure
        dataset = f"{self.side}/{where['population']}/0/{where['attribute']}"
        with h5py.File(file, "r") as opened:
            size = opened[dataset].shape[0]
        config.setdefault("_circuit_changes", []).append(CircuitChange(
            file, dataset, self.rows(config, where, size), where.get("mode", "scale") == "scale",
            value))


class EdgeAttribute(CircuitAttribute):
    """`{population: pair__pair__electrical, attribute: conductance}`: every edge of it."""

    side = "edges"


class NodeAttribute(CircuitAttribute):
    """`{population: E, attribute: dynamics_params/holding_current, node_set: first}`: the
    nodes of the node set (of the simulation's node sets file), else every node."""

    side = "nodes"
    optional = ("mode", "node_set")

    def rows(self, config, where, size):
        if "node_set" not in where:
            return None
        circuit = libsonata.CircuitConfig.from_file(config["network"])
        sets = libsonata.NodeSets.from_file(config.get("node_sets_file")
                                            or circuit.node_sets_path)
        population = circuit.node_population(where["population"])
        return np.asarray(sets.materialize(where["node_set"], population).flatten(), np.int64)


def _absolute_paths(node, base: Path):
    """The circuit config's file and folder names made absolute (expanded_json keeps them
    relative to its folder)."""
    if isinstance(node, dict):
        return {k: (str((base / v).resolve()) if isinstance(v, str) and v
                    and (k.endswith(("_file", "_dir")) or k in ("h5v1", "neurolucida-asc"))
                    else _absolute_paths(v, base)) for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_paths(v, base) for v in node]
    return node


def write_circuit_copy(config: dict, directory: Path):
    """Apply the circuit changes that circuit kinds left in `config`: copies of the files
    they change, in `directory`, and a circuit config naming them, which `config` runs."""
    changes: list[CircuitChange] = config.pop("_circuit_changes", [])
    if not changes:
        return
    directory.mkdir(parents=True, exist_ok=True)
    network = Path(config["network"])
    circuit = _absolute_paths(json.loads(libsonata.CircuitConfig.from_file(
        str(network)).expanded_json), network.parent)
    circuit.pop("manifest", None)
    copies: dict[Path, Path] = {}
    for change in changes:
        if change.file not in copies:
            copies[change.file] = directory / change.file.name
            if copies[change.file].resolve() == change.file.resolve():
                raise ConfigError(f"the changed copy of {change.file} would replace it: "
                                  "choose another output folder")
            shutil.copyfile(change.file, copies[change.file])
        with h5py.File(copies[change.file], "r+") as opened:
            values = np.array(opened[change.dataset][...], dtype=float)
            rows = slice(None) if change.rows is None else change.rows
            values[rows] = values[rows] * change.value if change.scale else change.value
            opened[change.dataset][...] = values.astype(opened[change.dataset].dtype)
    for side, key in (("nodes", "nodes_file"), ("edges", "edges_file")):
        for entry in circuit.get("networks", {}).get(side, []):
            if Path(entry[key]) in copies:
                entry[key] = str(copies[Path(entry[key])])
    path = directory / "circuit_config.json"
    path.write_text(json.dumps(circuit, indent=1))
    config["network"] = str(path)


APPLY_KINDS.register("input", InputField())
APPLY_KINDS.register("mechanism", MechanismGlobal())
APPLY_KINDS.register("sections", SectionVariable())
APPLY_KINDS.register("connection_override", OverrideField())
APPLY_KINDS.register("config", ConfigKey())
APPLY_KINDS.register("edges", EdgeAttribute())
APPLY_KINDS.register("nodes", NodeAttribute())


class BaseConfig:
    """The simulation config the fit starts from, with every path made absolute, so that a
    candidate's copy runs from any folder. Read through the driver's config dialects, so a
    bmtk config (config.json wrapper, manifest) starts a fit as its strict SONATA copy."""

    def __init__(self, path: Path, cache_root: Path | None = None):
        from ..config.loader import open_simulation_config

        self.path = path
        parsed = open_simulation_config(path, cache_root)
        raw = json.loads(parsed.expanded_json)
        raw["network"] = str(Path(parsed.network).resolve())
        if "node_sets_file" in raw:
            raw["node_sets_file"] = str(Path(parsed.node_sets_file).resolve())
        if "compartment_sets_file" in raw:
            raw["compartment_sets_file"] = str((path.parent / raw["compartment_sets_file"])
                                               .resolve())
        for name, spec in raw.get("inputs", {}).items():
            if isinstance(spec, dict) and "spike_file" in spec:
                spec["spike_file"] = str(Path(parsed.input(name).spike_file).resolve())
        raw.setdefault("output", {})
        raw["output"]["output_dir"] = str(Path(parsed.output.output_dir).resolve())
        self.raw = raw

    def check(self, spec_file: Path, parameters):
        problems = ProblemList(spec_file)
        for parameter in parameters:
            APPLY_KINDS[parameter.kind].check_config(parameter.where, self.raw,
                                                     f"{parameter.key}.apply.{parameter.kind}",
                                                     problems)
        problems.raise_if_any()

    def with_values(self, parameters, values: dict[str, float], output_dir: Path,
                    circuit_dir: Path | None = None) -> dict:
        """A copy with the values applied, writing its outputs into `output_dir`; changed
        circuit files (circuit kinds) go to `circuit_dir` (default: beside output_dir)."""
        config = copy.deepcopy(self.raw)
        for parameter in parameters:
            APPLY_KINDS[parameter.kind].apply(config, parameter.where,
                                              float(values[parameter.name]), parameter.name)
        config["output"]["output_dir"] = str(output_dir)
        write_circuit_copy(config, circuit_dir or Path(output_dir).parent / "changed_circuit")
        return config
