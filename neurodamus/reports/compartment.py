"""`compartment`: one segment variable (v, i_membrane, ina, m_hh, ...) in each selected
compartment; `sections` soma/axon/dend/apic/all, `compartments` center or all.

A point neuron has no compartments: a variable of its artificial cell (IntFire1's `m`,
as bmtk's membrane_report records it) is its one element, id 0; compartmental cells have
no such variable and give no elements.
"""

from .elements import CellCompartments, CellElements, segment_ref
from .registry import ReportType, register, unknown_segment_variable
from .variables import ReportVariable

POINT_NEURON = "*point neuron*"  # ReportVariable.mechanism of an artificial cell's variable


def parse_segment_variable(tokens, catalogue):
    variable = catalogue.segment_variable(tokens[0])
    if variable is None:
        return [], [unknown_segment_variable(tokens[0], catalogue)]
    return [variable], []


def _point_neuron_variable(token, catalogue) -> ReportVariable | None:
    # point processes without a current: artificial cells, not synapses or electrodes
    having = [m for m in catalogue.point_processes.values()
              if token in m.variables and m.current is None]
    if not having:
        return None
    units = {m.units.get(token, "") for m in having}
    return ReportVariable(token, POINT_NEURON, token, units.pop() if len(units) == 1 else "")


@register("compartment")
class CompartmentReport(ReportType):
    @classmethod
    def parse_variables(cls, tokens, catalogue):
        variables, problems = parse_segment_variable(tokens, catalogue)
        point = _point_neuron_variable(tokens[0], catalogue) if problems else None
        return ([point], []) if point else (variables, problems)

    @classmethod
    def cell_elements(cls, cell, report):
        attribute = report.variables[0].attribute
        if report.variables[0].mechanism == POINT_NEURON:
            artificial = getattr(cell, "artificial", None)
            if artificial is None or not hasattr(artificial, attribute):
                return None
            return CellElements.one_term_each(cell.population, cell.node_id, [0],
                                              [getattr(artificial, f"_ref_{attribute}")])
        chosen = CellCompartments(cell).select(report.sections, report.compartments)
        if not chosen:
            return None
        refs = [segment_ref(segment, attribute, report.name, cell.population)
                for _, segment in chosen]
        return CellElements.one_term_each(cell.population, cell.node_id,
                                          [element for element, _ in chosen], refs)
