"""`conditions.modifications`: checked and frozen here, applied after the cells are built
(neurodamus/modifications/).

libsonata parses the list form (each entry with `name`, `type`, `node_set` or
`compartment_set`, and `section_configure` except for ttx) and rejects the older object
form (name -> entry) with "`modifications` must be an array"; `as_list` rewrites that form
before libsonata reads the config, with a warning. Each section_configure is parsed by the
grammar of modifications/statements.py and every variable it names must be a section
property or a range variable of a mechanism the run will have, so mistakes stop the run
before any cell exists.
"""

import logging
from dataclasses import dataclass

from ..modifications.registry import MODIFICATION_TYPES
from ..modifications.statements import SECTION_PROPERTIES, StatementError, Statements, parse
from .checks import ProblemList
from .settings import CompartmentSetSettings

log = logging.getLogger("neurodamus")
KEY = "conditions.modifications"
SEGMENT_VARIABLES = ("cm", "diam", "v")  # of every segment, whatever its mechanisms
NOT_SETTABLE = ("i_membrane", "i_cap")  # recordable, but computed by NEURON


@dataclass(frozen=True)
class ModificationSettings:
    """One modification; `key` locates it in the config for messages
    (conditions.modifications[2], or conditions.modifications.<name> in the object form)."""

    name: str
    type: str  # a key of MODIFICATION_TYPES
    key: str
    node_set: str | None = None
    statements: Statements | None = None  # None for ttx
    compartment_set: CompartmentSetSettings | None = None


def _modifications(raw):
    conditions = raw.get("conditions") if isinstance(raw, dict) else None
    return conditions.get("modifications") if isinstance(conditions, dict) else None


def is_object_form(raw) -> bool:
    return isinstance(_modifications(raw), dict)


def as_list(raw):
    """The raw config with an object-form `modifications` rewritten as a list (names from
    the keys), or None when there is nothing to rewrite."""
    modifications = _modifications(raw)
    if not isinstance(modifications, dict):
        return None
    log.warning("%s is an object (name -> modification), the older form: read as a list in "
                "that order", KEY)
    entries = [{**entry, "name": name} if isinstance(entry, dict) else entry
               for name, entry in modifications.items()]
    return {**raw, "conditions": {**raw["conditions"], "modifications": entries}}


def check_raw_modifications(raw, problems: ProblemList):
    """Name the key of what libsonata rejected (its type errors do not)."""
    modifications = _modifications(raw)
    if modifications is None:
        return
    if isinstance(modifications, dict):
        entries = [(f"{KEY}.{name}", entry) for name, entry in modifications.items()]
    elif isinstance(modifications, list):
        entries = [(f"{KEY}[{index}]", entry) for index, entry in enumerate(modifications)]
    else:
        problems.add("must be a list of modifications", key=KEY)
        return
    for key, entry in entries:
        if not isinstance(entry, dict):
            problems.add("must be an object", key=key)
            continue
        fields = ["name"] if isinstance(modifications, list) else []
        kind = entry.get("type")
        modification = MODIFICATION_TYPES.get(kind) if isinstance(kind, str) else None
        if modification is None:
            problems.add(MODIFICATION_TYPES.not_named(kind), key=f"{key}.type")
        else:
            fields.append(modification.target)
            if modification.takes_statements:
                fields.append("section_configure")
        for field in fields:
            if field not in entry:
                problems.add("missing mandatory key", key=f"{key}.{field}")
            elif not isinstance(entry[field], str):
                problems.add(f"must be a string, got {entry[field]!r}", key=f"{key}.{field}")


def _known_variables(circuit, mechanism_dirs) -> set:
    """What a statement may assign: section properties, the variables of every segment and
    the range variables of every mechanism the run will have."""
    from .reports import _catalogue

    catalogue = _catalogue(circuit, mechanism_dirs)
    names = set(catalogue.segment_variables) - set(NOT_SETTABLE)
    return names | set(SECTION_PROPERTIES) | set(SEGMENT_VARIABLES)


def _key(raw, index: int, object_form: bool) -> str:
    return f"{KEY}.{raw.name}" if object_form else f"{KEY}[{index}]"


def node_sets_used(parsed, object_form: bool) -> dict:
    """{key: node set} of every modification that names one, valid or not (so that a node
    set problem is reported together with the others)."""
    return {f"{_key(raw, index, object_form)}.node_set": raw.node_set
            for index, raw in enumerate(parsed)
            if getattr(raw, "node_set", None) and raw.type.name in MODIFICATION_TYPES
            and MODIFICATION_TYPES[raw.type.name].target == "node_set"}


def load_modifications(parsed, object_form: bool, problems: ProblemList, compartment_sets,
                       circuit, mechanism_dirs=()) -> list[ModificationSettings]:
    """ModificationSettings from libsonata's parsed modifications, in config order.

    `compartment_sets` (config.compartment_sets.CompartmentSets) resolves compartment_set
    targets; `circuit` (CircuitSettings or None) and `mechanism_dirs` (--mechanisms) tell
    which mechanisms exist."""
    modifications, known = [], None
    for index, raw in enumerate(parsed):
        kind, name = raw.type.name, raw.name
        key = _key(raw, index, object_form)
        modification = MODIFICATION_TYPES.get(kind)
        if modification is None:
            problems.add(MODIFICATION_TYPES.unknown(kind), key=f"{key}.type")
            continue
        before = len(problems.items)
        node_set = compartments = statements = None
        if modification.target == "node_set":
            node_set = raw.node_set
            if not node_set:
                problems.add("must name a node set", key=f"{key}.node_set")
        else:
            compartments = compartment_sets.resolve(raw.compartment_set, f"{key}.compartment_set",
                                                    problems, circuit)
        if modification.takes_statements:
            try:
                statements = parse(raw.section_configure, kind)
            except StatementError as error:
                problems.add(f"modification '{name}' ({kind}): {error}",
                             key=f"{key}.section_configure")
            else:
                known = known if known is not None else _known_variables(circuit, mechanism_dirs)
                for variable in statements.names:
                    if variable not in known:
                        problems.add(
                            f"modification '{name}' ({kind}): '{variable}' is neither a section "
                            f"property ({', '.join(SECTION_PROPERTIES + SEGMENT_VARIABLES)}) nor "
                            "a range variable of a mechanism (NEURON's, neurodamus' or the "
                            "circuit's mod files)", key=f"{key}.section_configure")
        if len(problems.items) == before:
            modifications.append(ModificationSettings(
                name=name, type=kind, key=key, node_set=node_set, statements=statements,
                compartment_set=compartments))
    return modifications
