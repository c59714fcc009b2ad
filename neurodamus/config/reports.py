"""The `reports` section: every report checked in the config phase, frozen into
ReportSettings. The report type registry says which types exist and parses each type's
`variable_name`; the variables are checked against NEURON's built-in mechanisms and the mod
files that will be compiled, so an unknown variable stops the run before anything is built.
"""

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import MechanismError
from ..values import is_finite_number
from .checks import ProblemList
from .compartment_sets import load_compartment_sets
from .settings import CompartmentSetSettings

log = logging.getLogger("neurodamus")

SECTIONS = ("soma", "axon", "dend", "apic", "all")
COMPARTMENTS = ("center", "all")
SCALINGS = ("none", "area")
TIMES = ("start_time", "end_time", "dt")
MANDATORY = ("type", "variable_name") + TIMES
STRINGS = ("type", "variable_name", "cells", "sections", "compartments", "scaling", "unit",
           "file_name", "compartment_set")


@dataclass(frozen=True)
class ReportSettings:
    """One enabled report. Times in ms; `end_time` is clipped to run.tstop and frames are
    taken at start_time + k * dt for every such time before end_time."""

    name: str
    type: str  # a key of reports.registry.REPORT_TYPES
    variables: tuple  # reports.variables.ReportVariable, parsed from variable_name
    variable_name: str
    cells: str | None  # node set; None: every simulated cell
    sections: str = "soma"
    compartments: str = "center"
    scaling: str = "area"
    start_time: float = 0.0
    end_time: float = 0.0
    dt: float = 0.1
    unit: str = ""
    file_name: str = ""  # relative to output.output_dir (or absolute)
    compartment_set: CompartmentSetSettings | None = None
    extension: object = None  # the settings of a type outside SONATA's enum (extracellular)

    @property
    def frame_count(self) -> int:
        return max(0, math.ceil((self.end_time - self.start_time) / self.dt - 1e-9))


def check_raw_reports(raw_reports, problems: ProblemList) -> set[str]:
    """Shape checks on the JSON (types, mandatory keys, enum values), which libsonata also
    makes but reports without naming the report. Returns the names of reports with problems."""
    from ..reports.registry import REPORT_TYPES

    if not isinstance(raw_reports, dict):
        problems.add("must be an object", key="reports")
        return set()
    failed = set()
    for name, raw in raw_reports.items():
        before = len(problems.items)
        key = f"reports.{name}"
        if not isinstance(raw, dict):
            problems.add("must be an object", key=key)
            failed.add(name)
            continue
        kind = raw.get("type")
        implied = not getattr(REPORT_TYPES.get(kind) if isinstance(kind, str) else None,
                              "names_variable", True)
        for field in MANDATORY:
            if field not in raw and not (field == "variable_name" and implied):
                problems.add("missing mandatory key", key=f"{key}.{field}")
        for field in TIMES:
            if field in raw and not is_finite_number(raw[field]):
                problems.add(f"must be a number, got {raw[field]!r}", key=f"{key}.{field}")
        for field in STRINGS:
            if field in raw and not isinstance(raw[field], str):
                problems.add(f"must be a string, got {raw[field]!r}", key=f"{key}.{field}")
        if "enabled" in raw and not isinstance(raw["enabled"], bool):
            problems.add(f"must be true or false, got {raw['enabled']!r}", key=f"{key}.enabled")
        if kind == "compartment_set" and not raw.get("compartment_set"):
            problems.add("a compartment_set report must name its compartment_set",
                         key=f"{key}.compartment_set")
        elif kind != "compartment_set" and "compartment_set" in raw:
            problems.add("only compartment_set reports take a compartment_set",
                         key=f"{key}.compartment_set")
        if isinstance(kind, str) and kind not in _sonata_types():
            carried = REPORT_TYPES.get(kind)
            hint = (f"; write it as a {carried.carried_by} report with "
                    f"'{carried.marker_key}'" if carried else "")
            problems.add(REPORT_TYPES.unknown(kind, keys=_sonata_types(), hint=hint),
                         key=f"{key}.type")
        for field, allowed in (("sections", SECTIONS), ("compartments", COMPARTMENTS),
                               ("scaling", SCALINGS)):
            value = raw.get(field)
            if isinstance(value, str) and value not in allowed:
                problems.add(f"'{value}' is not one of {', '.join(allowed)}", key=f"{key}.{field}")
        if len(problems.items) > before:
            failed.add(name)
    return failed


def _sonata_types() -> list[str]:
    from ..reports.registry import REPORT_TYPES

    return [name for name, kind in REPORT_TYPES.items() if not getattr(kind, "carried_by", None)]


def _report_kind(sonata_type: str, raw: dict):
    """The registered type of a report. A type outside SONATA's enum travels through libsonata
    as the SONATA type it extends (`carried_by`) and is told apart by its own key."""
    from ..reports.registry import REPORT_TYPES

    for kind in REPORT_TYPES.values():
        if getattr(kind, "carried_by", None) == sonata_type and kind.marker_key in raw:
            return kind
    return REPORT_TYPES[sonata_type]


def _catalogue(circuit, mechanism_dirs=()):
    """Mechanisms the run will have: NEURON's built-ins plus ours, the circuit's and the
    --mechanisms directories' mod files."""
    from ..mechanisms import mechanism_sources
    from ..reports.variables import build_catalogue

    directories = [d for d in (*(circuit.mechanisms_dirs if circuit else ()), *mechanism_dirs)
                   if Path(d).is_dir()]
    try:
        sources = mechanism_sources(directories)
    except MechanismError:
        sources = []
    return build_catalogue(sources)


def _aligned(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-6


def _check_times(report, run, key: str, problems: ProblemList) -> float | None:
    """Problems with start/end/dt; returns end_time clipped to tstop (None if unusable)."""
    start, end, dt = float(report.start_time), float(report.end_time), float(report.dt)
    if not (run.dt > 0 and run.tstop > 0):
        return None  # run.dt or run.tstop is wrong, a problem already reported
    ok = True
    if dt < run.dt:
        problems.add(f"{dt} is smaller than the simulation dt {run.dt}", key=f"{key}.dt")
        ok = False
    elif not _aligned(dt, run.dt):
        problems.add(f"{dt} is not a multiple of the simulation dt {run.dt}", key=f"{key}.dt")
        ok = False
    if start < 0:
        problems.add(f"must not be negative, got {start}", key=f"{key}.start_time")
        ok = False
    elif not _aligned(start, run.dt):
        problems.add(f"{start} does not fall on a time step (simulation dt {run.dt})",
                     key=f"{key}.start_time")
        ok = False
    elif start >= run.tstop:
        problems.add(f"{start} is not before run.tstop {run.tstop}", key=f"{key}.start_time")
        ok = False
    if end <= start:
        problems.add(f"{end} is not after start_time {start}", key=f"{key}.end_time")
        ok = False
    if not ok:
        return None
    if end > run.tstop:
        log.warning("report '%s': end_time %g is after run.tstop %g; recording stops at tstop",
                    key.split(".", 1)[1], end, run.tstop)
    return min(end, run.tstop)


def _relative_file(file_name: str, output_dir: str) -> str:
    """libsonata resolves file names against the config's output_dir: keep them relative to
    it, so that --output-path moves reports along with the spikes."""
    path = Path(file_name)
    try:
        return str(path.relative_to(Path(output_dir)))
    except ValueError:
        return str(path)


def _compartment_set(config, set_name: str, circuit, key: str, problems: ProblemList):
    """The named set, resolved like the inputs' (file problems are reported once, there)."""
    sets = load_compartment_sets(config, ProblemList(config.compartment_sets_file))
    return sets.resolve(set_name, f"{key}.compartment_set", problems, circuit)


def load_reports(config, raw_reports, run, circuit, problems: ProblemList,
                 mechanism_dirs=()) -> list[ReportSettings]:
    """ReportSettings of every enabled report; problems go to `problems`."""
    from ..reports.variables import split_variable_names

    raw_reports = raw_reports if isinstance(raw_reports, dict) else {}
    failed = check_raw_reports(raw_reports, problems)
    names = [n for n in sorted(config.list_report_names) if n not in failed]
    enabled = [n for n in names if config.report(n).enabled]
    if not enabled:
        return []
    catalogue = _catalogue(circuit, mechanism_dirs)
    reports = []
    files: dict[str, str] = {}  # file name -> the report writing it
    spikes_file = _relative_file(config.output.spikes_file, config.output.output_dir)
    for name in enabled:
        report, raw, key = config.report(name), raw_reports[name], f"reports.{name}"
        before = len(problems.items)
        kind = _report_kind(report.type.name, raw)
        variables, messages = kind.parse(split_variable_names(report.variable_name), catalogue)
        for message in messages:
            problems.add(message, key=f"{key}.variable_name")
        end_time = _check_times(report, run, key, problems)
        compartment_set = None
        if kind.type_name == "compartment_set":
            compartment_set = _compartment_set(config, report.compartment_set, circuit, key,
                                               problems)
        extension = None
        if hasattr(kind, "load_extension"):
            extension = kind.load_extension(raw, key, problems, Path(config.base_path))
        file_name = _relative_file(report.file_name, config.output.output_dir)
        if file_name in files:
            problems.add(f"writes the same file {file_name} as report '{files[file_name]}'",
                         key=f"{key}.file_name")
        elif Path(file_name) == Path(spikes_file):
            problems.add(f"file {file_name} is the spikes file", key=f"{key}.file_name")
        files[file_name] = name
        if len(problems.items) > before or end_time is None:
            continue
        unit = raw["unit"] if "unit" in raw else kind.default_unit(variables)
        reports.append(ReportSettings(
            name=name, type=kind.type_name, variables=tuple(variables),
            variable_name=report.variable_name, cells=report.cells or None,
            sections=report.sections.name, compartments=report.compartments.name,
            scaling=report.scaling.name, start_time=float(report.start_time),
            end_time=end_time, dt=float(report.dt), unit=unit, file_name=file_name,
            compartment_set=compartment_set, extension=extension))
    return reports
