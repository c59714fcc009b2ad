"""SectionMap.section_ids: the SONATA id of each present section, which compartment reports
write as element ids; an e-model's axon stub keeps the ids of the original axon's first
sections, and the dendrites keep theirs."""

from neurodamus.cells.sections import SectionMap


def test_ids_skip_the_removed_axon():
    sections = ["soma", "axon0", "axon1", "dend0", "dend1", "apic0"]
    # the morphology had 60 axon sections, the template keeps 2
    section_map = SectionMap(("soma", "axon", "dend", "apic"), (1, 60, 2, 1), (1, 2, 2, 1),
                             sections)
    assert section_map.section_ids == [0, 1, 2, 61, 62, 63]
    assert [section_map.index(i) for i in section_map.section_ids] == list(range(len(sections)))


def test_ids_without_removed_sections_count_from_zero():
    section_map = SectionMap(("soma", "dend"), (1, 3), (1, 3), ["s", "d0", "d1", "d2"])
    assert section_map.section_ids == [0, 1, 2, 3]
