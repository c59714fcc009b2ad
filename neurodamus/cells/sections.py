"""SONATA section ids of a template cell, counted as SONATA and the reference simulator count
them: soma, axon, dend (basal), apic, then ais, node, myelin.

E-model templates replace the morphology's axon by a short stub, but edge files number the
sections of the original morphology: the axon therefore counts as the template's
`nSecAxonalOrig` sections, so that dendrite ids keep their values. An id inside the removed
part of the axon names no section; it is an error, never a neighbouring section.
"""

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

# (hoc section array, hoc section list) in section-id order.
SECTION_KINDS = (("soma", "somatic"), ("axon", "axonal"), ("dend", "basal"), ("apic", "apical"),
                 ("ais", "AIS"), ("node", "nodal"), ("myelin", "myelinated"))
ORIGINAL_AXON_COUNT = "nSecAxonalOrig"


class RemovedSectionError(LookupError):
    """A section id inside the part of the axon that the template removed."""


@dataclass(frozen=True)
class SectionMap:
    """Section ids <-> the sections of one instantiated template."""

    kinds: tuple[str, ...]
    counted: tuple[int, ...]  # ids each kind takes (the original axon length for "axon")
    present: tuple[int, ...]  # sections each kind has now
    sections: list  # the present sections, kind by kind, in array order

    @classmethod
    def of(cls, hoc_cell) -> "SectionMap":
        kinds, counted, present, sections = [], [], [], []
        for array, section_list in SECTION_KINDS:
            if not hasattr(hoc_cell, section_list):
                continue
            count = sum(1 for _ in getattr(hoc_cell, section_list))
            # By array index, as the reference simulator resolves ids (`dend[k]`), which is
            # not always the section list's order.
            array_sections = getattr(hoc_cell, array) if hasattr(hoc_cell, array) else None
            members = ([array_sections[i] for i in range(count)] if array_sections is not None
                       else list(getattr(hoc_cell, section_list)))
            ids = count
            if array == "axon" and hasattr(hoc_cell, ORIGINAL_AXON_COUNT):
                ids = max(int(getattr(hoc_cell, ORIGINAL_AXON_COUNT)), count)
            kinds.append(array)
            counted.append(ids)
            present.append(count)
            sections.extend(members)
        return cls(tuple(kinds), tuple(counted), tuple(present), sections)

    @cached_property
    def _first_ids(self) -> list[int]:
        return [sum(self.counted[:k]) for k in range(len(self.counted))]

    @cached_property
    def _first_present(self) -> list[int]:
        return [sum(self.present[:k]) for k in range(len(self.present))]

    @cached_property
    def id_count(self) -> int:
        """How many section ids the cell has (including removed axon sections)."""
        return sum(self.counted)

    @cached_property
    def section_ids(self) -> list[int]:
        """The SONATA id of each present section (in `sections` order): ids skip the removed
        part of the axon."""
        return [first + i for first, count in zip(self._first_ids, self.present)
                for i in range(count)]

    def index(self, section_id: int) -> int:
        """Position of the section with this SONATA id in `sections` (plain Python: this
        runs once per synapse, where NumPy's per-call cost would dominate)."""
        if not 0 <= section_id < self.id_count:
            raise IndexError(section_id)
        kind = bisect_right(self._first_ids, section_id) - 1
        local = section_id - self._first_ids[kind]
        if local >= self.present[kind]:
            raise RemovedSectionError(
                f"section id {section_id} is axon section {local} of the morphology, removed "
                f"by the template (it keeps {self.present[kind]} of "
                f"{self.counted[kind]} axon sections)")
        return self._first_present[kind] + local
