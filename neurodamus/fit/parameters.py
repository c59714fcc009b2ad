"""Where a fitted parameter applies, and the simulation config a candidate runs.

A candidate is never applied by reaching into NEURON: its values are written into a copy of
the simulation config through the config's own mechanisms (inputs, conditions.mechanisms,
conditions.modifications, connection_overrides, any other key), so the driver builds it as
it builds any run, and the best candidate's config is the ready-to-run fitted config.

Each kind of `apply` is an entry of APPLY_KINDS: `check` looks at its fields when the spec is
read, `check_config` at the simulation config before the fit starts, `apply` writes a value.
"""

import copy
import json
from pathlib import Path
from typing import Any

import libsonata

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


APPLY_KINDS.register("input", InputField())
APPLY_KINDS.register("mechanism", MechanismGlobal())
APPLY_KINDS.register("sections", SectionVariable())
APPLY_KINDS.register("connection_override", OverrideField())
APPLY_KINDS.register("config", ConfigKey())


class BaseConfig:
    """The simulation config the fit starts from, with every path made absolute, so that a
    candidate's copy runs from any folder."""

    def __init__(self, path: Path):
        self.path = path
        try:
            parsed = libsonata.SimulationConfig.from_file(str(path))
        except (libsonata.SonataError, RuntimeError) as error:
            raise ConfigError(str(error), file=path) from None
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

    def with_values(self, parameters, values: dict[str, float], output_dir: Path) -> dict:
        """A copy with the values applied, writing its outputs into `output_dir`."""
        config = copy.deepcopy(self.raw)
        for parameter in parameters:
            APPLY_KINDS[parameter.kind].apply(config, parameter.where,
                                              float(values[parameter.name]), parameter.name)
        config["output"]["output_dir"] = str(output_dir)
        return config
