"""The `section_configure` statements of a modification: a small grammar, parsed in the
config phase (no NEURON), so that a bad statement stops the run before any cell exists.

    section_configure := statement { ";" statement } [ ";" ]
    statement         := [ where "." ] NAME OP NUMBER
    where             := "%s"                  every section (or compartment) selected
                       | LIST                  a section list: all, somatic, axonal, basal, ...
                       | TYPE "[" INDEX "]"    one section: soma[0], dend[3], apic[10], ...
    OP                := "=" | "+=" | "-=" | "*=" | "/="
    NAME              := letter or "_", then letters, digits, "_"
    NUMBER            := a decimal literal with optional sign and exponent (1, -0.5, 2e-3)

Which `where` a modification takes depends on its type (see `parse`). Nothing else is
accepted: no expressions, no function calls, no other statements. This is deliberately
not Python or hoc, so a statement can never run code.
"""

import math
import operator
import re
from dataclasses import dataclass

from ..cells.sections import SECTION_KINDS

OPERATORS = {"=": None, "+=": operator.add, "-=": operator.sub, "*=": operator.mul,
             "/=": operator.truediv}
# Section arrays and lists of the cell template contract (DESIGN.md), including the
# axon-initial-segment, node and myelin parts that published e-model templates add.
SECTION_TYPES = tuple(array for array, _ in SECTION_KINDS)
SECTION_LISTS = ("all", *(section_list for _, section_list in SECTION_KINDS))
# Properties of a whole section (not of its segments); the rest are segment variables.
SECTION_PROPERTIES = ("L", "Ra", "nseg", "rallbranch")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_STATEMENT = re.compile(
    r"""\s*(?:(?P<wildcard>%s)\s*\.
            |(?P<type>[A-Za-z_]\w*)\s*\[\s*(?P<index>\d+)\s*\]\s*\.
            |(?P<list>[A-Za-z_]\w*)\s*\.)?
        \s*(?P<name>[A-Za-z_]\w*)\s*(?P<op>[-+*/]?=)\s*(?P<value>""" + _NUMBER + r""")\s*""",
    re.X)


class StatementError(ValueError):
    """A section_configure that does not follow the grammar; the message says why."""


@dataclass(frozen=True)
class Assignment:
    """`name op value`, e.g. gnabar_hh *= 0.5; op "=" replaces the value."""

    name: str
    op: str
    value: float

    def apply(self, current: float) -> float:
        function = OPERATORS[self.op]
        return self.value if function is None else function(current, self.value)

    @property
    def section_level(self) -> bool:
        return self.name in SECTION_PROPERTIES

    def __str__(self):
        return f"{self.name} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Statements:
    """A parsed section_configure: what it selects (`where`) and its assignments.

    `where` is "%s", a section list name, (section type, index), or None (bare names,
    compartment_set only)."""

    where: object
    assignments: tuple[Assignment, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.name for a in self.assignments))


# What each modification type takes before the name, for messages.
FORMS = {
    "configure_all_sections": "'%s.<name> <op> <number>'",
    "section_list": "'<section list>.<name> <op> <number>' (e.g. apical.gbar_X = 0)",
    "section": "'<section>[<index>].<name> <op> <number>' (e.g. apic[10].gbar_X = 0)",
    "compartment_set": "'<name> <op> <number>' or '%s.<name> <op> <number>'",
}


def _split(text: str) -> list[str]:
    parts = text.split(";")
    if parts and not parts[-1].strip():
        parts = parts[:-1]  # one trailing ";" is allowed
    return parts


def _where(match) -> object:
    if match.group("wildcard"):
        return "%s"
    if match.group("type"):
        return (match.group("type"), int(match.group("index")))
    return match.group("list")  # a name, or None for a bare assignment


def _show(where) -> str:
    if isinstance(where, tuple):
        return f"{where[0]}[{where[1]}]"
    return "no section" if where is None else str(where)


def parse(text: str, modification_type: str) -> Statements:
    """Parse `text` for a modification of `modification_type`; raise StatementError."""
    form = FORMS[modification_type]
    if not isinstance(text, str) or not text.strip():
        raise StatementError(f"must be one or more ';'-separated assignments {form}")
    wheres, assignments = [], []
    for number, part in enumerate(_split(text), start=1):
        match = _STATEMENT.fullmatch(part)
        if match is None:
            raise StatementError(f"statement {number} {part.strip()!r} is not an assignment "
                                 f"{form}; the operators are {', '.join(OPERATORS)}")
        value = float(match.group("value"))
        if not math.isfinite(value):
            raise StatementError(f"statement {number} {part.strip()!r}: the value is not finite")
        if match.group("op") == "/=" and value == 0:
            raise StatementError(f"statement {number} {part.strip()!r} divides by zero")
        wheres.append(_where(match))
        assignments.append(Assignment(match.group("name"), match.group("op"), value))
    where = _check_where(wheres, modification_type, form)
    if modification_type == "compartment_set":
        properties = [a.name for a in assignments if a.section_level]
        if properties:
            raise StatementError(f"'{properties[0]}' is a property of a whole section; a "
                                 "compartment_set changes segment variables only")
    return Statements(where, tuple(assignments))


def _check_where(wheres: list, modification_type: str, form: str):
    first = wheres[0]
    for where in wheres[1:]:
        if where != first:
            raise StatementError(f"all statements must select the same sections: found "
                                 f"{_show(first)} and {_show(where)}")
    if modification_type == "configure_all_sections":
        if first != "%s":
            raise StatementError(f"statements select every section with '%s.': expected {form}, "
                                 f"got {_show(first)}")
    elif modification_type == "compartment_set":
        if first not in (None, "%s"):
            raise StatementError(f"the compartment set selects the compartments: expected {form}, "
                                 f"got {_show(first)}")
    elif modification_type == "section_list":
        if first not in SECTION_LISTS:
            raise StatementError(f"{_show(first)!r} is not a section list; expected {form} with "
                                 f"one of {', '.join(SECTION_LISTS)}")
    elif modification_type == "section":
        if first in SECTION_TYPES:
            raise StatementError(f"'{first}' needs an index: expected {form}")
        if not isinstance(first, tuple) or first[0] not in SECTION_TYPES:
            raise StatementError(f"{_show(first)!r} is not a section; expected {form} with one of "
                                 f"{', '.join(SECTION_TYPES)}")
    return first
