"""Modification type (SONATA `conditions.modifications[].type`) -> class. The registry is
the only list of valid types: config validation asks it what each type needs."""

from typing import ClassVar

from ..registry import Registry

MODIFICATION_TYPES: Registry[str, type["Modification"]] = Registry(
    "modification type", "type", name_attribute="type_name", sort_known=False)


def register(type_name: str):
    """Class decorator: the modification type of this name (sets the class's `type_name`)."""
    return MODIFICATION_TYPES.register(type_name)


class Modification:
    """Base of the modification types.

    `target` is the key naming what it acts on ("node_set" or "compartment_set");
    `takes_statements` whether it has a section_configure. Subclasses implement
    `apply_to_cell(settings, cell, h, outcome)` (node-set types) or `apply(settings,
    cells_by_gid, population_offset, h, outcome)` (compartment sets), recording what they
    did in the Outcome.
    """

    type_name: ClassVar[str] = ""
    target: ClassVar[str] = "node_set"
    takes_statements: ClassVar[bool] = True

    def apply_to_cell(self, settings, cell, h, outcome) -> None:
        raise NotImplementedError

    def apply(self, settings, cells_by_gid: dict, population_offset: int, h, outcome) -> None:
        raise NotImplementedError
