"""`synapse`: one variable of each afferent synapse of the cell.

`variable_name` is `Mechanism.variable` (only synapses of that mechanism), `Mechanism`
(its current), or a bare `variable` (every synapse whose mechanism has it, e.g. `g` of
both NdTmExc and NdTmInh). Element id = the mechanism's `synapseID` where it has one (the
BBP synapses: the synapse's index among the cell's afferent edges of its edge population,
as the reference simulator writes it), else the synapse's position in the cell's afferent
synapse list (edge populations in name order, edges in edge-id order within each); the
same on any number of ranks. Columns of the BBP synapses in the reference's order:
compartment by compartment (the template's `all` order, each section from x = 0 to 1),
within a compartment in NEURON's order of its point processes; the others in synapse-list
order. `sections` and `compartments` are not used.
"""

from .elements import CellCompartments, CellElements, mechanism_name
from .registry import ReportType, register
from .variables import ReportVariable

ANY_SYNAPSE = "*"  # a bare variable name: every synapse mechanism that has it


@register("synapse")
class SynapseReport(ReportType):
    uses_sections = False

    @classmethod
    def parse_variables(cls, tokens, catalogue):
        token = tokens[0]
        mechanism, dot, attribute = token.partition(".")
        if dot or mechanism in catalogue.point_processes:
            variable = catalogue.point_variable(mechanism, attribute or None)
            if variable is None:
                if mechanism not in catalogue.point_processes:
                    return [], [f"unknown point process '{mechanism}'"]
                wanted = attribute or "current"
                return [], [f"point process '{mechanism}' has no variable '{wanted}'"]
            return [ReportVariable(variable.text, variable.mechanism, variable.attribute,
                                   variable.unit)], []
        having = [m for m in catalogue.point_processes.values() if token in m.variables]
        if not having:
            return [], [f"no point process has a variable '{token}'"]
        units = {m.units[token] for m in having if m.units.get(token)}  # the declared ones
        unit = units.pop() if len(units) == 1 else ""
        return [ReportVariable(token, ANY_SYNAPSE, token, unit)], []

    @classmethod
    def cell_elements(cls, cell, report):
        variable = report.variables[0]
        chosen = {}  # point process name -> (element id, ref), in synapse-list order
        by_location = False  # the BBP synapses (with synapseID) are ordered as the reference
        for index, synapse in enumerate(cell.synapses):
            point_process = synapse.point_process
            if variable.mechanism not in (ANY_SYNAPSE, mechanism_name(point_process)):
                continue
            try:
                ref = getattr(point_process, f"_ref_{variable.attribute}")
            except (AttributeError, NameError, RuntimeError):
                continue  # a bare name: this synapse's mechanism does not have it
            element = index
            if hasattr(point_process, "synapseID"):
                element, by_location = int(point_process.synapseID), True
            chosen[point_process.hname()] = (element, ref)
        ordered = []
        if by_location and getattr(cell, "section_map", None) is not None:
            for _, segment in CellCompartments(cell).all():
                for point_process in segment.point_processes():
                    found = chosen.pop(point_process.hname(), None)
                    if found is not None:
                        ordered.append(found)
        ordered.extend(chosen.values())  # not on a compartment (artificial cells)
        return CellElements.one_term_each(cell.population, cell.node_id,
                                          [element for element, _ in ordered],
                                          [ref for _, ref in ordered])
