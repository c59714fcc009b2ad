"""`compartment_set`: one segment variable at each location of a compartment set
(`compartment_sets_file`: [node_id, section_id, offset], sorted), for the simulated nodes of
the set's population. Each location records the compartment holding it; its element id is
the location's section id, as in compartment reports (two locations in one compartment give
two elements with the same values).
"""

from .compartment import parse_segment_variable
from .elements import CellCompartments, CellElements, segment_ref
from .registry import ReportType, register


@register("compartment_set")
class CompartmentSetReport(ReportType):
    uses_sections = False

    @classmethod
    def parse_variables(cls, tokens, catalogue):
        return parse_segment_variable(tokens, catalogue)

    @classmethod
    def cell_elements(cls, cell, report):
        compartment_set = report.compartment_set
        if cell.population != compartment_set.population:
            return None
        locations = [(section, offset) for node, section, offset in compartment_set.locations
                     if node == cell.node_id]
        if not locations:
            return None
        compartments = CellCompartments(cell)
        attribute = report.variables[0].attribute
        element_ids, refs = [], []
        for section_id, offset in locations:
            element, segment = compartments.at(section_id, offset)
            element_ids.append(element)
            refs.append(segment_ref(segment, attribute, report.name, cell.population))
        return CellElements.one_term_each(cell.population, cell.node_id, element_ids, refs)
