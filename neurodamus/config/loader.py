"""Open the simulation and circuit configs with libsonata and turn them into Settings.

libsonata does the parsing (it knows every key of the format); this module translates
its errors into ConfigError naming our file, checks what libsonata leaves to the
simulator (value ranges, files that must exist, node sets that must resolve), and
reports every problem it finds at once.
"""

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import libsonata

from ..errors import ConfigError
from .checks import ProblemList, libsonata_reason
from .circuit import load_circuit_settings
from .compartment_sets import load_compartment_sets
from .inputs import load_inputs
from .known_keys import ignored_keys, type_problems, unknown_keys
from .modifications import (
    as_list,
    check_raw_modifications,
    is_object_form,
    load_modifications,
    node_sets_used,
)
from .node_sets import check_node_sets, load_node_sets
from .overrides import load_overrides
from .reports import check_raw_reports, load_reports
from .settings import CircuitSettings, Conditions, OutputSettings, RunSettings, Settings

SORT_ORDERS = {"none", "by_id", "by_time"}
log = logging.getLogger("neurodamus")


def _open_simulation_config(path: Path, cache_root: Path | None, may_write: bool):
    """(libsonata.SimulationConfig, the JSON as read, its dialect's ReadConfig)."""
    from ..dialects import read_simulation_config
    from ..mechanisms import default_cache_dir

    if not path.is_file():
        raise ConfigError("simulation config not found", file=path)
    dialect = read_simulation_config(path, cache_root or default_cache_dir().parent, may_write)
    if dialect.raw is not None:
        raw = dialect.raw
    else:
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"not valid JSON: {error}", file=path) from None
    rewritten = as_list(raw)  # older forms libsonata rejects
    if rewritten is None and dialect.raw is not None:
        rewritten = raw
    try:
        if rewritten is None:
            return libsonata.SimulationConfig.from_file(str(path)), raw, dialect
        for_libsonata = dialect.for_libsonata(rewritten) if dialect.raw is not None else rewritten
        return (libsonata.SimulationConfig(json.dumps(for_libsonata), str(dialect.base_dir)), raw,
                dialect)
    except (libsonata.SonataError, RuntimeError) as error:
        # libsonata's type errors do not name the key: look for the problem ourselves first.
        problems = ProblemList(dialect.config_file)
        for key, message in type_problems(raw):
            problems.add(message, key=key)
        load_inputs(raw.get("inputs", {}) if isinstance(raw, dict) else {}, problems)
        check_raw_reports(raw.get("reports", {}) if isinstance(raw, dict) else {}, problems)
        check_raw_modifications(raw, problems)
        problems.raise_if_any()
        raise ConfigError(libsonata_reason(error), file=dialect.config_file) from None


def open_simulation_config(config_path, cache_root=None,
                           may_write=True) -> libsonata.SimulationConfig:
    """The simulation config as libsonata reads it, through the config dialects (a bmtk
    config arrives as its strict copy), for readers other than the driver (the exporters)."""
    return _open_simulation_config(Path(config_path).resolve(), cache_root, may_write)[0]


def _check_keys(raw, config_file: Path, strict: bool, problems: ProblemList):
    """Keys the SONATA table does not know: a warning naming the closest known key (an
    error with --strict), since libsonata would silently drop them; keys SONATA defines
    but the driver does not act on: a warning that they are ignored."""
    for key, close in unknown_keys(raw):
        hint = f": did you mean '{close}'?" if close else ""
        if strict:
            problems.add(f"unknown key{hint}", key=key)
        else:
            log.warning("neurodamus: warning: unknown key '%s' in %s%s", key, config_file, hint)
    for key in ignored_keys(raw):
        log.warning("neurodamus: warning: key '%s' in %s is ignored by neurodamus", key,
                    config_file)


def _in_config_order(raw_inputs, names) -> dict:
    """expanded_json sorts the inputs by name; libsonata's list keeps the file's order, which
    keys the noise modules' random streams (as in the reference simulator)."""
    if not isinstance(raw_inputs, dict):
        return raw_inputs
    ordered = {name: raw_inputs[name] for name in names if name in raw_inputs}
    return {**ordered, **raw_inputs}


def _run_settings(config, raw_run, problems: ProblemList) -> RunSettings:
    run = config.run
    dl = raw_run.get("dL") if isinstance(raw_run, dict) else None
    if dl is not None and (isinstance(dl, bool) or not isinstance(dl, (int, float)) or dl <= 0):
        problems.add(f"must be a positive number (um), got {dl!r}", key="run.dL")
        dl = None
    if not run.tstop > 0:
        problems.add(f"must be positive, got {run.tstop}", key="run.tstop")
    if not run.dt > 0:
        problems.add(f"must be positive, got {run.dt}", key="run.dt")
    elif run.tstop > 0 and run.dt > run.tstop:
        problems.add(f"{run.dt} is larger than run.tstop {run.tstop}", key="run.dt")
    if run.random_seed < 0:
        problems.add(f"must not be negative, got {run.random_seed}", key="run.random_seed")
    return RunSettings(tstop=run.tstop, dt=run.dt, random_seed=int(run.random_seed),
                       spike_threshold=run.spike_threshold,
                       integration_method=run.integration_method.name,
                       stimulus_seed=int(run.stimulus_seed), synapse_seed=int(run.synapse_seed),
                       minis_seed=int(run.minis_seed), ionchannel_seed=int(run.ionchannel_seed),
                       dl=None if dl is None else float(dl))


def _conditions(conditions, problems: ProblemList) -> Conditions:
    calcium = conditions.extracellular_calcium
    if calcium is not None and not calcium > 0:
        problems.add(f"must be positive, got {calcium}", key="conditions.extracellular_calcium")
    mechanisms: dict[str, dict[str, Any]] = {}
    for suffix, values in (conditions.mechanisms or {}).items():
        mechanisms[suffix] = {}
        for name, value in values.items():
            if isinstance(value, bool):
                value = float(value)
            if not isinstance(value, (int, float)):
                problems.add(f"must be a number, got {value!r}",
                             key=f"conditions.mechanisms.{suffix}.{name}")
                continue
            mechanisms[suffix][name] = float(value)
    return Conditions(celsius=conditions.celsius, v_init=conditions.v_init,
                      extracellular_calcium=calcium,
                      randomize_gaba_rise_time=bool(conditions.randomize_gaba_rise_time),
                      spike_location=_spike_location(conditions), mechanisms=mechanisms)


def _spike_location(conditions) -> str:
    location = getattr(conditions, "spike_location", None)
    return "AIS" if location is not None and location.name == "AIS" else "soma"


def _target_simulator(config, problems: ProblemList) -> str:
    name = config.target_simulator.name if config.target_simulator is not None else "NEURON"
    if name not in ("NEURON", "CORENEURON"):
        problems.add(f"'{name}' is not supported (NEURON or CORENEURON)", key="target_simulator")
    return name


def _output_settings(config, output_override, raw) -> OutputSettings:
    output = config.output
    output_dir = Path(output_override).resolve() if output_override else Path(output.output_dir)
    # libsonata joins spikes_file to output_dir: keep the part below output_dir (a sub-
    # directory too, created when written), so that --output-path moves it along; a path
    # outside output_dir stays where the config puts it.
    spikes = Path(output.spikes_file)
    try:
        spikes_name = str(spikes.relative_to(Path(output.output_dir)))
    except ValueError:
        spikes_name = str(spikes)
    raw_output = raw.get("output") if isinstance(raw, dict) else None
    csv = raw_output.get("spikes_file_csv", "") if isinstance(raw_output, dict) else ""
    return OutputSettings(output_dir=output_dir, spikes_file=spikes_name,
                          spikes_sort_order=output.spikes_sort_order.name,
                          log_file=_log_file_name(output),
                          spikes_file_csv=csv if isinstance(csv, str) else "")


def _log_file_name(output) -> str:
    """libsonata gives log_file resolved against the config's output_dir: keep it relative
    to that directory (so --output-path moves it too) unless it names a place outside."""
    if not output.log_file:
        return ""
    path = Path(output.log_file)
    try:
        return str(path.relative_to(Path(output.output_dir)))
    except ValueError:
        return str(path)


def load_settings(config_path, output_dir=None, mechanism_dirs=(), cache_root=None,
                  may_write=True, strict=False) -> Settings:
    """Read and validate everything; raise one ConfigError listing every problem found.
    `mechanism_dirs` (--mechanisms) tell which mechanisms reports may name. Configs of
    another dialect (bmtk) are read through strict copies kept under `cache_root`, which
    are written only where `may_write` (rank 0, before the others read). `strict` makes
    unknown keys errors (else warnings; configs of a lenient dialect are not checked)."""
    path = Path(config_path).resolve()
    config, raw_file, dialect = _open_simulation_config(path, cache_root, may_write)
    problems = ProblemList(dialect.config_file)
    if dialect.raw is None:
        _check_keys(raw_file, dialect.config_file, strict, problems)
    run = _run_settings(config, raw_file.get("run", {}) if isinstance(raw_file, dict) else {},
                        problems)
    conditions = _conditions(config.conditions, problems)
    circuit = load_circuit_settings(Path(config.network), problems)
    raw = json.loads(config.expanded_json)
    if dialect.raw is not None:  # its input modules as written (libsonata saw stand-ins)
        raw["inputs"] = dialect.raw.get("inputs", {})
    compartment_sets = load_compartment_sets(config, problems)
    warnings: list[str] = []
    inputs = load_inputs(_in_config_order(raw.get("inputs", {}), config.list_input_names),
                         problems, compartment_sets, circuit, warnings)
    conditions = replace(conditions, modifications=tuple(load_modifications(
        config.conditions.modifications(), is_object_form(raw_file), problems, compartment_sets,
        circuit, mechanism_dirs)))
    overrides = load_overrides(raw.get("connection_overrides", []), problems)
    reports = load_reports(config, raw.get("reports", {}), run, circuit, problems,
                           mechanism_dirs)
    node_sets_file, node_sets, node_sets_json = load_node_sets(config, circuit, problems)
    node_set = config.node_set or None
    if node_sets is not None:
        used = {"node_set": node_set} if node_set else {}
        used.update({f"inputs.{i.name}.node_set": i.node_set for i in inputs if i.node_set})
        for index, override in enumerate(overrides):
            used[f"connection_overrides[{index}].source"] = override.source
            used[f"connection_overrides[{index}].target"] = override.target
        used.update({f"reports.{r.name}.cells": r.cells for r in reports if r.cells})
        used.update(node_sets_used(config.conditions.modifications(), is_object_form(raw_file)))
        check_node_sets(node_sets, node_sets_file, used, circuit, problems, node_sets_json,
                        warnings)
    problems.raise_if_any()
    # The circuit was read: an unreadable one added a problem, raised just above.
    return Settings(config_file=dialect.config_file, run=run, conditions=conditions,
                    output=_output_settings(config, output_dir, raw_file),
                    circuit=cast(CircuitSettings, circuit),
                    node_sets_file=node_sets_file,
                    node_sets_json=node_sets_json,
                    node_set=node_set, inputs=tuple(inputs), connection_overrides=tuple(overrides),
                    target_simulator=_target_simulator(config, problems),
                    reports=tuple(reports), leniencies=dialect.leniencies,
                    warnings=tuple(warnings))
