"""The five SONATA modification types, one class each.

Sections named by a list or by '%s' are changed where they have every variable the
statements name and skipped where they lack one (a mechanism inserted in some sections
only, e.g. `%s.gSK_bar_SK = 0` for every section that has SK); the phase makes it an error
when that leaves no section changed at all. A section named by its index must exist and
have every variable.
"""

from dataclasses import dataclass

from ..errors import CircuitError
from .registry import Modification, register
from .statements import SECTION_PROPERTIES

TTX_MECHANISM = "NdTTX"  # mod/NdTTX.mod: sets the ttx ion that Na channels read
TTX_ION = "ttx_ion"


@dataclass
class Outcome:
    """What one modification did on this rank (combined over ranks by the phase)."""

    cells: int = 0
    changed: int = 0  # sections (segments for a compartment set)
    skipped: int = 0  # sections (segments) skipped for lacking a variable
    lacking: str | None = None  # the first of them, for messages
    error: str | None = None  # a problem that stops the run
    ttx_readers: int = 0  # ttx: sections where some mechanism already used the ttx ion


class CellError(Exception):
    """A problem on one cell; the phase turns it into a ConfigError naming the modification."""


def section_label(cell, section) -> str:
    """gid 12 apic[3]: the section's name inside its template, and the cell's gid."""
    return f"gid {cell.gid} {section.name().split('.', 1)[-1]}"


def has_variable(section, name: str) -> bool:
    """Whether `section.<name>` is a property or a range variable that exists there."""
    if name in SECTION_PROPERTIES:
        return True
    return _segment_has(section(0.5), name)


def _segment_has(segment, name: str) -> bool:
    return name != "x" and isinstance(getattr(segment, name, None), float)


def _all_sections(cell):
    sections = getattr(cell.hoc, "all", None)
    return list(sections) if sections is not None else list(cell.sections)


def _assign(target, assignment, where: str):
    try:
        setattr(target, assignment.name, assignment.apply(getattr(target, assignment.name)))
    except (ValueError, TypeError, AttributeError, RuntimeError, ZeroDivisionError) as error:
        raise CellError(f"{where}: '{assignment}' failed: {error}") from None


def configure_section(cell, section, statements, outcome: Outcome, required: bool):
    """Apply the assignments to every segment of `section` (section properties once)."""
    missing = [name for name in statements.names if not has_variable(section, name)]
    if missing:
        where = section_label(cell, section)
        if required:
            raise CellError(f"{where} has no '{missing[0]}' (is its mechanism inserted there?)")
        outcome.skipped += 1
        outcome.lacking = outcome.lacking or f"{where} has no '{missing[0]}'"
        return
    for assignment in statements.assignments:
        if assignment.section_level:
            _assign(section, assignment, section_label(cell, section))
        else:
            for segment in section:
                _assign(segment, assignment, section_label(cell, section))
    outcome.changed += 1


class NodeSetModification(Modification):
    """The cells of a node set; `sections(settings, cell)` says which of their sections."""

    def sections(self, settings, cell):
        raise NotImplementedError

    def apply_to_cell(self, settings, cell, h, outcome: Outcome):
        for section in self.sections(settings, cell):
            configure_section(cell, section, settings.statements, outcome, required=False)


@register("ttx")
class TTX(NodeSetModification):
    """Blocks the sodium channels that read the ttx ion, in every section of the cells."""

    takes_statements = False

    def apply_to_cell(self, settings, cell, h, outcome: Outcome):
        for section in _all_sections(cell):
            if not h.ismembrane(TTX_MECHANISM, sec=section):
                if h.ismembrane(TTX_ION, sec=section):
                    outcome.ttx_readers += 1
                try:
                    section.insert(TTX_MECHANISM)
                except ValueError as error:
                    raise CellError(f"cannot insert {TTX_MECHANISM} in "
                                    f"{section_label(cell, section)}: {error}") from None
            else:
                outcome.ttx_readers += 1  # a previous ttx modification: counted then
            for segment in section:
                getattr(segment, TTX_MECHANISM).ttxo_level = 1.0
            outcome.changed += 1


@register("configure_all_sections")
class ConfigureAllSections(NodeSetModification):
    """`%s.<name> = <value>` in every section of the cells that has `name`."""

    def sections(self, settings, cell):
        return _all_sections(cell)


@register("section_list")
class SectionList(NodeSetModification):
    """`apical.<name> = <value>` in every section of one section list (empty when the
    template has no such list)."""

    def sections(self, settings, cell):
        sections = getattr(cell.hoc, settings.statements.where, None)
        return list(sections) if sections is not None else []


@register("section")
class Section(NodeSetModification):
    """`apic[10].<name> = <value>` in that one section of each cell: it must exist there
    and have `name`."""

    def apply_to_cell(self, settings, cell, h, outcome: Outcome):
        section = find_section(cell, *settings.statements.where)
        configure_section(cell, section, settings.statements, outcome, required=True)


def find_section(cell, section_type: str, index: int):
    """The section `section_type[index]` of the cell, which must belong to its `all` list."""
    array = getattr(cell.hoc, section_type, None)
    count = _array_length(array)
    if array is None or count == 0:
        raise CellError(f"gid {cell.gid} has no {section_type} sections")
    if index >= count:
        raise CellError(f"gid {cell.gid} has no {section_type}[{index}]: its {section_type} "
                        f"sections are {section_type}[0] to {section_type}[{count - 1}]")
    section = array[index]
    if section not in set(_all_sections(cell)):
        raise CellError(f"gid {cell.gid}: {section_type}[{index}] is not part of the cell "
                        "(not in its 'all' section list)")
    return section


def _array_length(array) -> int:
    if array is None:
        return 0
    try:
        return len(array)
    except TypeError:
        return 0


@register("compartment_set")
class CompartmentSet(Modification):
    """`<name> = <value>` in each compartment (segment) of a compartment set: segments that
    lack `name` are skipped; each segment is changed once, however many offsets fall in it."""

    target = "compartment_set"

    def apply(self, settings, cells_by_gid: dict, population_offset: int, h, outcome: Outcome):
        statements = settings.statements
        cells, done = set(), set()
        for node_id, section_id, offset in settings.compartment_set.locations:
            cell = cells_by_gid.get(population_offset + node_id)
            if cell is None:
                continue
            if cell.gid not in cells:
                outcome.cells += 1
                cells.add(cell.gid)
            try:
                section = cell.section(section_id)
            except CircuitError as error:
                raise CellError(str(error)) from None
            segment_index = min(int(offset * section.nseg), section.nseg - 1)
            key = (cell.gid, section_id, segment_index)
            if key in done:
                continue
            done.add(key)
            segment = section(offset)
            where = f"{section_label(cell, section)}({offset:g})"
            missing = [name for name in statements.names if not _segment_has(segment, name)]
            if missing:
                outcome.skipped += 1
                outcome.lacking = outcome.lacking or f"{where} has no '{missing[0]}'"
                continue
            for assignment in statements.assignments:
                _assign(segment, assignment, where)
            outcome.changed += 1
