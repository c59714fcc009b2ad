"""The section_configure grammar (no NEURON): what each modification type accepts."""

import pytest

from neurodamus.modifications.statements import Assignment, StatementError, parse


def test_wildcard_assignments_with_every_operator():
    parsed = parse(" %s.gnabar_hh = 0 ;%s.cm*=2;%s . e_pas += -1.5e1 ; %s.Ra /= 4; %s.L-=.5;",
                   "configure_all_sections")
    assert parsed.where == "%s"
    assert parsed.assignments == (Assignment("gnabar_hh", "=", 0.0), Assignment("cm", "*=", 2.0),
                                  Assignment("e_pas", "+=", -15.0), Assignment("Ra", "/=", 4.0),
                                  Assignment("L", "-=", 0.5))
    assert parsed.names == ("gnabar_hh", "cm", "e_pas", "Ra", "L")
    assert [a.apply(3.0) for a in parsed.assignments] == [0.0, 6.0, -12.0, 0.75, 2.5]


def test_section_list_section_and_compartment_forms():
    assert parse("apical.gbar_X = 0; apical.cm = 2", "section_list").where == "apical"
    assert parse("apic[10].gbar_X = 0; apic[ 10 ].cm = 2", "section").where == ("apic", 10)
    assert parse("gbar_X = 1.5; cm *= 2", "compartment_set").where is None
    assert parse("%s.gbar_X = 1.5", "compartment_set").where == "%s"


@pytest.mark.parametrize("kind, text, message", [
    ("configure_all_sections", "", "one or more ';'-separated assignments"),
    ("configure_all_sections", "gnabar_hh = 0", "select every section with '%s.'"),
    ("configure_all_sections", "%s.gnabar_hh = abs(-1)", "statement 1 .* is not an assignment"),
    ("configure_all_sections", "%s.cm = 1; print(1)", "statement 2 'print\\(1\\)'"),
    ("configure_all_sections", "%s.cm = 1;; %s.cm = 2", "statement 2 '' is not an assignment"),
    ("configure_all_sections", "%s.cm == 1", "is not an assignment"),
    ("configure_all_sections", "%s.cm = 1e999", "not finite"),
    ("configure_all_sections", "%s.cm /= 0", "divides by zero"),
    ("configure_all_sections", "%s.cm = x", "is not an assignment"),
    ("configure_all_sections", "%s.cm.x = 1", "is not an assignment"),
    ("configure_all_sections", "__import__('os').system('true')", "is not an assignment"),
    ("section_list", "dendritic.cm = 2", "'dendritic' is not a section list"),
    ("section_list", "%s.cm = 2", "is not a section list"),
    ("section_list", "apical.cm = 2; basal.cm = 2", "same sections: found apical and basal"),
    ("section", "apic.cm = 2", "'apic' needs an index"),
    ("section", "apic[-1].cm = 2", "is not an assignment"),
    ("section", "apic[1.5].cm = 2", "is not an assignment"),
    ("section", "spine[0].cm = 2", "'spine\\[0\\]' is not a section"),
    ("section", "apic[1].cm = 2; apic[2].cm = 2", "found apic\\[1\\] and apic\\[2\\]"),
    ("compartment_set", "apical.cm = 2", "the compartment set selects the compartments"),
    ("compartment_set", "nseg = 3", "property of a whole section"),
])
def test_rejected(kind, text, message):
    with pytest.raises(StatementError, match=message):
        parse(text, kind)
