"""The keys of a SONATA simulation config, section by section, with the JSON type of each.

libsonata ignores keys it does not know, so a typo (`input` for `inputs`) silently drops a
whole section; and its type errors ("type must be number, but is string") name no key.
This table answers both: `unknown_keys` finds the keys it does not list (with the closest
known one), `type_problems` the values of the wrong JSON type, each named by its dotted key.
`inputs.<name>` are checked by the stimulus registry (config.inputs), not here.
`circuit_type_problems` does the same for the file entries of a circuit config.
"""

import difflib

NUMBER, STRING, BOOLEAN, OBJECT, LIST = "a number", "a string", "true or false", "an object", \
    "a list"
ANY = None  # free-form, or checked elsewhere

TOP_LEVEL = {
    "version": ANY, "manifest": OBJECT, "network": STRING, "node_sets_file": STRING,
    "node_set": STRING, "target_simulator": STRING, "compartment_sets_file": STRING,
    "metadata": ANY, "beta_features": ANY, "run": OBJECT, "conditions": OBJECT,
    "output": OBJECT, "inputs": OBJECT, "reports": OBJECT, "connection_overrides": ANY,
}
RUN = {
    "tstop": NUMBER, "dt": NUMBER, "random_seed": NUMBER, "spike_threshold": NUMBER,
    "integration_method": STRING, "stimulus_seed": NUMBER, "ionchannel_seed": NUMBER,
    "minis_seed": NUMBER, "synapse_seed": NUMBER, "dL": ANY, "electrodes_file": STRING,
    "tstart": NUMBER, "nsteps_block": NUMBER, "tsteps_block": NUMBER,
}
CONDITIONS = {
    "celsius": NUMBER, "v_init": NUMBER, "spike_location": STRING,
    "extracellular_calcium": NUMBER, "randomize_gaba_rise_time": BOOLEAN, "mechanisms": OBJECT,
    "modifications": ANY,
}
OUTPUT = {
    "output_dir": STRING, "spikes_file": STRING, "spikes_sort_order": STRING,
    "log_file": STRING, "overwrite_output_dir": BOOLEAN, "spikes_file_csv": STRING,
}
REPORT = {
    "type": STRING, "variable_name": STRING, "cells": STRING, "sections": STRING,
    "compartments": STRING, "scaling": STRING, "start_time": NUMBER, "end_time": NUMBER,
    "dt": NUMBER, "unit": STRING, "file_name": STRING, "enabled": BOOLEAN,
    "compartment_set": STRING, "electrodes_file": STRING, "module": STRING, "format": STRING,
    "electrode_channels": ANY,
}
CONNECTION_OVERRIDE = {
    "name": STRING, "source": STRING, "target": STRING, "weight": NUMBER,
    "spont_minis": NUMBER, "synapse_configure": STRING, "modoverride": STRING,
    "synapse_delay_override": NUMBER, "delay": NUMBER, "neuromodulation_dtc": NUMBER,
    "neuromodulation_strength": NUMBER,
}
# SONATA defines these, the driver does not act on them: said so, not called unknown.
IGNORED = {"run.tstart", "run.nsteps_block", "run.tsteps_block", "output.overwrite_output_dir",
           "reports.*.format", "reports.*.module"}


def _sections(raw: dict):
    """(dotted prefix, pattern for IGNORED, the object, its key table) for every part of the
    config the table covers."""
    yield "", "", raw, TOP_LEVEL
    for name, table in (("run", RUN), ("conditions", CONDITIONS), ("output", OUTPUT)):
        if isinstance(raw.get(name), dict):
            yield f"{name}.", f"{name}.", raw[name], table
    reports = raw.get("reports")
    if isinstance(reports, dict):
        for name, report in reports.items():
            if isinstance(report, dict):
                yield f"reports.{name}.", "reports.*.", report, REPORT
    overrides = raw.get("connection_overrides")
    if isinstance(overrides, list):
        for index, override in enumerate(overrides):
            if isinstance(override, dict):
                yield f"connection_overrides[{index}].", "", override, CONNECTION_OVERRIDE


def unknown_keys(raw) -> list[tuple[str, str | None]]:
    """(dotted key, the closest known key or None) for each key the table does not list.
    Keys starting with '_' are comments."""
    if not isinstance(raw, dict):
        return []
    found = []
    for prefix, _, section, table in _sections(raw):
        for key in section:
            if key in table or key.startswith("_"):
                continue
            close = difflib.get_close_matches(key, table, n=1)
            found.append((prefix + key, prefix + close[0] if close else None))
    return found


def ignored_keys(raw) -> list[str]:
    """Dotted keys that SONATA defines and this driver reads but does not act on."""
    if not isinstance(raw, dict):
        return []
    return [prefix + key for prefix, pattern, section, _ in _sections(raw) for key in section
            if pattern + key in IGNORED]


def _has_type(value, expected: str) -> bool:
    if expected == NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {STRING: str, BOOLEAN: bool, OBJECT: dict, LIST: list}[expected])


def type_problems(raw) -> list[tuple[str, str]]:
    """(dotted key, message) for each known key whose value has the wrong JSON type."""
    if not isinstance(raw, dict):
        return []
    found = []
    for prefix, _, section, table in _sections(raw):
        for key, value in section.items():
            expected = table.get(key)
            if expected is not None and not _has_type(value, expected):
                found.append((prefix + key, f"must be {expected}, got {value!r}"))
    return found


# Circuit config: the values that name files or directories (strings), by where they sit.
NETWORK_FILES = {"nodes": ("nodes_file", "node_types_file"), "edges": ("edges_file",
                                                                       "edge_types_file")}


def _strings_of(section, prefix: str, skip=("alternate_morphologies",)):
    """(dotted key, message) for each value of `section` that is not a string (objects
    named in `skip` are looked into instead)."""
    found = []
    for key, value in section.items():
        if key in skip and isinstance(value, dict):
            found += _strings_of(value, f"{prefix}{key}.", ())
        elif key != "type" and not isinstance(value, str):
            found.append((prefix + key, f"must be {STRING}, got {value!r}"))
    return found


def circuit_type_problems(raw) -> list[tuple[str, str]]:
    """(dotted key, message) for circuit-config paths and entries of the wrong JSON type."""
    if not isinstance(raw, dict):
        return [("", "must be a JSON object")]
    found = []
    for name in ("manifest", "components"):
        if isinstance(raw.get(name), dict):
            found += _strings_of(raw[name], f"{name}.")
        elif name in raw:
            found.append((name, f"must be {OBJECT}, got {raw[name]!r}"))
    if "node_sets_file" in raw and not isinstance(raw["node_sets_file"], str):
        found.append(("node_sets_file", f"must be {STRING}, got {raw['node_sets_file']!r}"))
    networks = raw.get("networks", {})
    if not isinstance(networks, dict):
        return found + [("networks", f"must be {OBJECT}, got {networks!r}")]
    for kind, file_keys in NETWORK_FILES.items():
        entries = networks.get(kind, [])
        if not isinstance(entries, list):
            found.append((f"networks.{kind}", f"must be {LIST}, got {entries!r}"))
            continue
        for index, entry in enumerate(entries):
            where = f"networks.{kind}[{index}]"
            if not isinstance(entry, dict):
                found.append((where, f"must be {OBJECT}, got {entry!r}"))
                continue
            for key in file_keys:
                if key in entry and not isinstance(entry[key], str):
                    found.append((f"{where}.{key}", f"must be {STRING}, got {entry[key]!r}"))
            populations = entry.get("populations", {})
            if not isinstance(populations, dict):
                found.append((f"{where}.populations", f"must be {OBJECT}, got {populations!r}"))
                continue
            for population, values in populations.items():
                key = f"{where}.populations.{population}"
                if not isinstance(values, dict):
                    found.append((key, f"must be {OBJECT}, got {values!r}"))
                else:
                    found += _strings_of(values, f"{key}.")
    return found
