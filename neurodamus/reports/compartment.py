"""`compartment`: one segment variable (v, i_membrane, ina, m_hh, ...) in each selected
compartment; `sections` soma/axon/dend/apic/all, `compartments` center or all."""

from .elements import CellCompartments, CellElements, segment_ref
from .registry import ReportType, register, unknown_segment_variable


def parse_segment_variable(tokens, catalogue):
    variable = catalogue.segment_variable(tokens[0])
    if variable is None:
        return [], [unknown_segment_variable(tokens[0], catalogue)]
    return [variable], []


@register("compartment")
class CompartmentReport(ReportType):
    @classmethod
    def parse_variables(cls, tokens, catalogue):
        return parse_segment_variable(tokens, catalogue)

    @classmethod
    def cell_elements(cls, cell, report):
        attribute = report.variables[0].attribute
        chosen = CellCompartments(cell).select(report.sections, report.compartments)
        if not chosen:
            return None
        refs = [segment_ref(segment, attribute, report.name, cell.population)
                for _, segment in chosen]
        return CellElements.one_term_each(cell.population, cell.node_id,
                                          [element for element, _ in chosen], refs)
