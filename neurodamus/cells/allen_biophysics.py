"""Biophysics of Allen Institute cells as BioNet sets them, compiled once per parameter file
into a `Program`: for each section kind (soma, axon, dend, apic), the NEURON operations to
run on every section of that kind, in order.

Three sources, each read as the reference simulator reads it:
- `aibs_perisomatic` with a Cell Types JSON: every section gets Ra, the cm of its kind (the
  JSON must list every kind the cell has), `pas` with e_pas; then each `genome` entry
  (insert its mechanism, set its value) on the sections of its kind; then ena and ek of the
  `conditions.erev` entries (the sections must have both ions);
- `aibs_allactive` with a JSON: `pas` everywhere; e_pas, Ra, the listed cm where given; the
  genome (entries of section `glob` are skipped, values may be strings of numbers); erev
  only for the ions a section has;
- a NeuroML2 cell file (see neuroml.py): resistivity -> Ra, specificCapacitance -> cm,
  channelDensity of `pas` -> pas with g_pas and e_pas, other channelDensity /
  channelDensityNernst -> insert ionChannel and set the range variable named by the
  element's id, then ena or ek from erev for ions na and k (other ions, and Nernst
  channels, set no reversal potential); concentrationModel -> insert the mechanism named
  by its id, set gamma_<type> and decay_<type>.
The JSON `conditions` celsius and v_init are global and come from the simulation config.
"""

from dataclasses import dataclass
from pathlib import Path

KINDS = ("soma", "axon", "dend", "apic")


@dataclass(frozen=True)
class Operation:
    """`insert` a mechanism, `set` a section variable, or `set_if_ion` (set only where the
    ion `ion` exists)."""

    action: str  # insert | set | set_if_ion
    name: str
    value: float = 0.0
    ion: str = ""

    def __str__(self):
        if self.action == "insert":
            return f"insert {self.name}"
        return f"{self.name} = {self.value!r}"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per file
class Program:
    """Per section kind, the operations for each of its sections. `covers`: kinds that the
    source defines and that a cell may have; None when any kind may be left untouched."""

    source: Path | None  # the parameter file (None: a step that has none)
    operations: dict  # kind -> tuple[Operation, ...]
    covers: frozenset | None = None

    def mechanisms(self) -> set[str]:
        return {op.name for ops in self.operations.values() for op in ops if op.action == "insert"}


class _Builder:
    def __init__(self):
        self.operations = {}

    def add(self, kinds, *operations):
        for kind in ([kinds] if isinstance(kinds, str) else kinds):
            self.operations.setdefault(kind, []).extend(operations)

    def program(self, source, covers=None) -> Program:
        return Program(None if source is None else Path(source),
                       {k: tuple(v) for k, v in self.operations.items()}, covers)


def _number(value, what: str, fail) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(f"{what} is not a number: {value!r}") from None
    return number


def _first(params: dict, key: str, fail) -> dict:
    value = params.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, dict):
        raise fail(f"needs '{key}' as a list of one object")
    return value


def _genome(params: dict, fail, mechanism_required: bool) -> list:
    genome = params.get("genome", [])
    if not isinstance(genome, list):
        raise fail("'genome' must be a list")
    entries = []
    for i, entry in enumerate(genome):
        needed = ("section", "name", "value") + (("mechanism",) if mechanism_required else ())
        if not isinstance(entry, dict) or any(key not in entry for key in needed):
            raise fail(f"genome entry {i} needs {', '.join(needed)}")
        entries.append(entry)
    return entries


def _erev(conditions: dict, fail) -> list:
    erev = conditions.get("erev", [])
    if not isinstance(erev, list) or any(
            not isinstance(e, dict) or "section" not in e for e in erev):
        raise fail("'conditions.erev' must be a list of objects with a 'section'")
    return erev


def perisomatic_program(params: dict, source: Path, fail) -> Program:
    """BioNet's aibs_perisomatic parameters (set_params_peri)."""
    passive = _first(params, "passive", fail)
    conditions = _first(params, "conditions", fail)
    for key in ("ra", "cm", "e_pas"):
        if key not in passive:
            raise fail(f"'passive' needs '{key}' for aibs_perisomatic")
    cm = {}
    for entry in passive["cm"]:
        if not isinstance(entry, dict) or "section" not in entry or "cm" not in entry:
            raise fail("'passive.cm' entries need 'section' and 'cm'")
        cm[entry["section"]] = _number(entry["cm"], f"cm of {entry['section']}", fail)
    ra = _number(passive["ra"], "passive.ra", fail)
    e_pas = _number(passive["e_pas"], "passive.e_pas", fail)
    builder = _Builder()
    for kind, value in cm.items():
        builder.add(kind, Operation("set", "Ra", ra), Operation("set", "cm", value),
                    Operation("insert", "pas"), Operation("set", "e_pas", e_pas))
    for entry in _genome(params, fail, mechanism_required=True):
        operations = [Operation("insert", entry["mechanism"])] if entry["mechanism"] else []
        value = _number(entry["value"], f"genome value of {entry['name']}", fail)
        builder.add(entry["section"], *operations, Operation("set", entry["name"], value))
    for entry in _erev(conditions, fail):
        builder.add(entry["section"],
                    Operation("set", "ena", _number(entry.get("ena"), "erev ena", fail)),
                    Operation("set", "ek", _number(entry.get("ek"), "erev ek", fail)))
    return builder.program(source, covers=frozenset(cm))


def allactive_program(params: dict, source: Path, fail) -> Program:
    """BioNet's aibs_allactive parameters (set_params_allactive)."""
    passive = _first(params, "passive", fail)
    conditions = _first(params, "conditions", fail)
    builder = _Builder()
    builder.add(KINDS, Operation("insert", "pas"))
    if "e_pas" in passive:
        builder.add(KINDS, Operation("set", "e_pas", _number(passive["e_pas"], "e_pas", fail)))
    if "ra" in passive:
        builder.add(KINDS, Operation("set", "Ra", _number(passive["ra"], "passive.ra", fail)))
    for entry in passive.get("cm", []):
        if not isinstance(entry, dict) or "section" not in entry or "cm" not in entry:
            raise fail("'passive.cm' entries need 'section' and 'cm'")
        builder.add(entry["section"],
                    Operation("set", "cm", _number(entry["cm"], f"cm of {entry['section']}", fail)))
    for entry in _genome(params, fail, mechanism_required=False):
        if entry["section"] == "glob":
            continue
        mechanism = entry.get("mechanism", "")
        operations = [Operation("insert", mechanism)] if mechanism else []
        value = _number(entry["value"], f"genome value of {entry['name']}", fail)
        builder.add(entry["section"], *operations, Operation("set", entry["name"], value))
    for entry in _erev(conditions, fail):
        builder.add(entry["section"],
                    Operation("set_if_ion", "ek", _number(entry.get("ek"), "erev ek", fail),
                              "k_ion"),
                    Operation("set_if_ion", "ena", _number(entry.get("ena"), "erev ena", fail),
                              "na_ion"))
    return builder.program(source)


def extracellular_program(params, source, fail) -> Program:
    """BioNet's set_extracellular: the `extracellular` mechanism in every section."""
    builder = _Builder()
    builder.add(KINDS, Operation("insert", "extracellular"))
    return builder.program(source)


def neuroml_program(biophysics) -> Program:
    """The operations of a NeuroML2 cell file (neuroml.NmlBiophysics)."""
    builder = _Builder()
    for kind, elements in biophysics.by_kind.items():
        for element in elements:
            builder.add(kind, *_nml_operations(element))
    return builder.program(biophysics.file)


def _nml_operations(element) -> list[Operation]:
    if element.tag == "resistivity":
        return [Operation("set", "Ra", element.value)]
    if element.tag == "specificCapacitance":
        return [Operation("set", "cm", element.value)]
    if element.tag == "concentrationModel":
        return [Operation("insert", element.id),
                Operation("set", f"gamma_{element.model_type}", element.gamma),
                Operation("set", f"decay_{element.model_type}", element.decay)]
    if element.ion_channel == "pas":
        operations = [Operation("insert", "pas"), Operation("set", "g_pas", element.value)]
        if element.erev is not None:
            operations.append(Operation("set", "e_pas", element.erev))
        return operations
    operations = [Operation("insert", element.ion_channel),
                  Operation("set", element.id, element.value)]
    if element.tag == "channelDensity" and element.erev is not None:
        if element.ion == "na":
            operations.append(Operation("set", "ena", element.erev))
        elif element.ion == "k":
            operations.append(Operation("set", "ek", element.erev))
    return operations


def section_kind(section) -> str:
    """'soma', 'axon', 'dend' or 'apic': the section's array name, as BioNet reads it."""
    return section.name().rsplit(".", 1)[-1].split("[", 1)[0][:4]


def apply_program(h, program: Program, sections, fail):
    """Run the program on each section (in the order given)."""
    for section in sections:
        for operation in program.operations.get(section_kind(section), ()):
            try:
                if operation.action == "insert":
                    section.insert(operation.name)
                elif operation.action == "set" or h.ismembrane(operation.ion, sec=section):
                    setattr(section, operation.name, operation.value)
            except (AttributeError, ValueError, TypeError, NameError, RuntimeError) as error:
                raise fail(f"{section_kind(section)} section {section.name()}: "
                           f"'{operation}' failed ({' '.join(str(error).split())})") from None
