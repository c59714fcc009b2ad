"""SONATA section ids of a template cell, counted as SONATA and the reference simulator count
them: soma, axon, dend (basal), apic, then ais, node, myelin.

E-model templates replace the morphology's axon by a short stub, but edge files number the
sections of the original morphology: the axon therefore counts as the template's
`nSecAxonalOrig` sections, so that dendrite ids keep their values. An id inside the removed
part of the axon names no section; it is an error, never a neighbouring section.
"""

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

# (hoc section array, hoc section list) in section-id order.
SECTION_KINDS = (("soma", "somatic"), ("axon", "axonal"), ("dend", "basal"), ("apic", "apical"),
                 ("ais", "AIS"), ("node", "nodal"), ("myelin", "myelinated"))
ORIGINAL_AXON_COUNT = "nSecAxonalOrig"


class RemovedSectionError(LookupError):
    """A section id inside the part of the axon that the template removed."""


def _count(section_list) -> int:
    return sum(1 for _ in section_list)


@dataclass
class SectionMap:
    """Section ids <-> the sections of one instantiated template."""

    kinds: tuple[str, ...]
    counted: np.ndarray  # ids each kind takes (the original axon length for "axon")
    present: np.ndarray  # sections each kind has now
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
        return cls(tuple(kinds), np.asarray(counted, np.int64), np.asarray(present, np.int64),
                   sections)

    def __post_init__(self):
        # Plain lists: `index` runs once per synapse, where NumPy's per-call cost dominates.
        self._first_ids = np.concatenate([[0], np.cumsum(self.counted)[:-1]]).tolist()
        self._first_present = np.concatenate([[0], np.cumsum(self.present)[:-1]]).tolist()
        self._counted, self._present = self.counted.tolist(), self.present.tolist()
        self._id_count = int(self.counted.sum())

    @property
    def id_count(self) -> int:
        """How many section ids the cell has (including removed axon sections)."""
        return self._id_count

    def index(self, section_id: int) -> int:
        """Position of the section with this SONATA id in `sections`."""
        if not 0 <= section_id < self._id_count:
            raise IndexError(section_id)
        kind = bisect_right(self._first_ids, section_id) - 1
        local = section_id - self._first_ids[kind]
        if local >= self._present[kind]:
            raise RemovedSectionError(
                f"section id {section_id} is axon section {local} of the morphology, removed "
                f"by the template (it keeps {self._present[kind]} of "
                f"{self._counted[kind]} axon sections)")
        return self._first_present[kind] + local

    def valid_ids(self, section_ids: np.ndarray) -> np.ndarray:
        """Mask of the ids that name a present section (vectorised, for bulk checks)."""
        ids = np.asarray(section_ids, np.int64)
        ok = (ids >= 0) & (ids < self.id_count)
        first_ids = np.concatenate([[0], np.cumsum(self.counted)[:-1]])
        kind = np.clip(np.searchsorted(first_ids, ids, side="right") - 1, 0, len(self.kinds) - 1)
        return ok & (ids - first_ids[kind] < self.present[kind])
