"""Report type (the SONATA `type` enum) -> class. The registry is the only list of valid
types: config validation asks it, so adding a type is one module and one `@register`."""

from typing import ClassVar

from ..registry import Registry

REPORT_TYPES: Registry[str, type["ReportType"]] = Registry(
    "report type", "type", name_attribute="type_name")


def register(type_name: str):
    """Class decorator: the report type of this name (sets the class's `type_name`)."""
    return REPORT_TYPES.register(type_name)


class ReportType:
    """Base of the report types.

    Config phase: `parse_variables(tokens, catalogue)` turns the words of `variable_name`
    into ReportVariables (or problems), and `default_unit` gives the unit when the config
    names none. Reports phase: `cell_elements(cell, report)` lists what one local
    cell contributes (a CellElements), or None when it contributes nothing.
    """

    type_name = ""
    carried_by: ClassVar[str | None] = None  # the report type another type's config stands for
    marker_key: ClassVar[str | None] = None  # the config key that marks this type
    uses_sections = True  # whether `sections` / `compartments` select what is recorded
    several_variables = False  # summation sums several variables; the others record one
    names_variable = True  # whether the config gives `variable_name` (lfp's is implied)

    @classmethod
    def parse_variables(cls, tokens: list[str], catalogue):
        """Returns (variables, problems)."""
        raise NotImplementedError

    @classmethod
    def parse(cls, tokens: list[str], catalogue):
        if not tokens:
            return [], ["must name a variable"]
        if len(tokens) > 1 and not cls.several_variables:
            return [], [f"a {cls.type_name} report records one variable, got {len(tokens)}: "
                        f"{', '.join(tokens)}"]
        return cls.parse_variables(tokens, catalogue)

    @classmethod
    def default_unit(cls, variables) -> str:
        return variables[0].unit if variables else ""

    @classmethod
    def cell_elements(cls, cell, report):
        raise NotImplementedError


def unknown_segment_variable(token: str, catalogue) -> str:
    hint = ""
    if "." not in token and token in catalogue.point_processes:
        hint = f" ('{token}' is a point process: use a summation or synapse report)"
    return f"unknown variable '{token}'{hint}"
