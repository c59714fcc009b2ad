"""What one cell contributes to a report: its elements (the columns of the report) and the
NEURON values that make each element.

Element ids of compartment, summation and compartment_set reports are SONATA section ids,
as the SONATA report spec, neurodamus and bluepysnap's per-section selections read them:
soma 0, then the axonal, basal and apical sections (`cell.section_map`), every compartment
of a section carrying its section's id. The columns of one cell come section by section in
the order of the template's `all` list, as the reference simulator writes them (the same as
the ids' order, except that the axon stubs an e-model adds in place of the morphology's
axon come last), each section's segments from x=0 to x=1, so the k-th column with a given
id is the k-th compartment of that section. A compartment keeps its id whichever
`sections` the report selects, so ids are comparable between reports.
"""

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

SECTION_KINDS = ("soma", "axon", "dend", "apic")


@dataclass
class CellElements:
    """One cell's columns in a report.

    Element j of the cell is the sum over the terms t with `term_elements[t] == j` of
    `coefficients[t] * value(refs[t])`; compartment and synapse reports have one term per
    element with coefficient 1.
    """

    population: str
    node_id: int
    element_ids: np.ndarray  # uint32, one per element
    refs: list = field(default_factory=list)  # NEURON pointers, one per term
    term_elements: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def one_term_each(cls, population, node_id, element_ids, refs):
        return cls(population, node_id, np.asarray(element_ids, np.uint32), list(refs),
                   np.arange(len(refs), dtype=np.int64), np.ones(len(refs)))


class CellCompartments:
    """The numbered compartments of one cell (see the module docstring)."""

    def __init__(self, cell):
        self.cell = cell
        sections = cell.section_map
        self.kinds = [kind for kind, count in zip(sections.kinds, sections.present)
                      for _ in range(int(count))]
        self.section_ids = sections.section_ids
        self.total = sum(int(section.nseg) for section in cell.sections)
        self.listed = _listed_order(cell)

    def select(self, sections: str, compartments: str, order=None):
        """(section id, segment) of the compartments a report records: `sections` one of
        soma/axon/dend/apic/all, `compartments` center (one per section) or all; sections in
        the template's `all` order (`order`: positions in cell.sections instead)."""
        chosen = []
        for index in self.listed if order is None else order:
            section, kind = self.cell.sections[index], self.kinds[index]
            if sections != "all" and kind != sections:
                continue
            nseg = int(section.nseg)
            indices = [min(nseg // 2, nseg - 1)] if compartments == "center" else range(nseg)
            for i in indices:
                chosen.append((self.section_ids[index], section((i + 0.5) / nseg)))
        return chosen

    def at(self, section_id: int, offset: float):
        """(section id, segment) of the compartment holding `offset` (0..1) of a section."""
        index = self.cell.section_index(section_id)
        section = self.cell.sections[index]
        nseg = int(section.nseg)
        i = min(int(offset * nseg), nseg - 1)
        return self.section_ids[index], section((i + 0.5) / nseg)

    def all(self):
        return self.select("all", "all")

    def by_section_id(self):
        """Every compartment in section-id order (soma, axon, dend, apic, ...): the order of
        the rows of an lfp electrodes file."""
        return self.select("all", "all", order=range(len(self.cell.sections)))


def _listed_order(cell) -> list[int]:
    """Positions in cell.sections in the order of the template's `all` section list (section
    order where the cell has no template or its list misses a section)."""
    template = getattr(cell, "hoc", None)
    listed = getattr(template, "all", None) if template is not None else None
    count = len(cell.sections)
    if listed is None:
        return list(range(count))
    rank = {section.name(): k for k, section in enumerate(listed)}
    return sorted(range(count), key=lambda i: (rank.get(cell.sections[i].name(), count + i), i))


def segment_ref(segment, attribute: str, report_name: str, population: str):
    """Pointer to a segment variable, or a clear error naming where it does not exist (the
    same on every rank, so that ranks report it once)."""
    try:
        ref = getattr(segment, f"_ref_{attribute}")
        # an array range variable (extracellular's vext): its first element, what bmtk's
        # reports give with their `first_element` transform
        return ref[0] if type(ref).__name__ == "RangeVar" else ref
    except (AttributeError, NameError, RuntimeError):
        kind = segment.sec.name().rsplit(".", 1)[-1].split("[", 1)[0]
        shown = "i_membrane" if attribute == "i_membrane_" else attribute
        raise ConfigError(f"variable '{shown}' does not exist in the '{kind}' sections of "
                          f"population '{population}'; record it only in sections that have "
                          "its mechanism", key=f"reports.{report_name}.variable_name") from None


def mechanism_name(point_process) -> str:
    """`IClamp[3]` -> `IClamp`."""
    return point_process.hname().split("[", 1)[0]
