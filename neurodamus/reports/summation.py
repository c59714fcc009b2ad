"""`summation`: currents added up per compartment, or over the whole cell for
`sections: soma` (one element, id 0).

Each word of `variable_name` is `i_membrane` (NEURON's fast membrane current, nA), a
density current (ina, i_pas, or a density mechanism's name for its current: `pas`;
mA/cm2, times area / 100 to give nA when `scaling` is `area`, the default), any other
segment variable (`v`: summed as it is with `scaling: none`, times area / 100 with `area`,
as the reference simulator does), a point process (`IClamp`: the current of every instance
in the compartment, nA; never scaled) or `Mechanism.variable`. Electrode currents (IClamp,
SEClamp, ...) are inward positive while membrane currents are outward positive, so they
enter with a minus sign: over a whole cell, `i_membrane` then equals minus `IClamp` (Kirchhoff).
"""

import numpy as np

from .elements import CellCompartments, CellElements, mechanism_name
from .registry import ReportType, register


@register("summation")
class SummationReport(ReportType):
    several_variables = True

    @classmethod
    def parse_variables(cls, tokens, catalogue):
        variables, problems = [], []
        for token in tokens:
            mechanism, _, attribute = token.partition(".")
            if mechanism in catalogue.point_processes:
                variable = catalogue.point_variable(mechanism, attribute or None)
                if variable is None:
                    problems.append(f"point process '{mechanism}' has no variable "
                                    f"'{attribute or 'current'}'")
                    continue
            else:
                variable = catalogue.segment_variable(token)
                if variable is None:
                    problems.append(f"unknown variable '{token}'")
                    continue
            variables.append(variable)
        return variables, problems

    @classmethod
    def default_unit(cls, variables) -> str:
        return "nA"

    @classmethod
    def cell_elements(cls, cell, report):
        compartments = CellCompartments(cell)
        whole_cell = report.sections == "soma"
        chosen = compartments.all() if whole_cell else compartments.select(
            report.sections, report.compartments)
        if not chosen:
            return None
        element_ids = [0] if whole_cell else [element for element, _ in chosen]
        refs, term_elements, coefficients = [], [], []
        for index, (_, segment) in enumerate(chosen):
            element = 0 if whole_cell else index
            for ref, coefficient in _terms(segment, report):
                refs.append(ref)
                term_elements.append(element)
                coefficients.append(coefficient)
        return CellElements(cell.population, cell.node_id, np.asarray(element_ids, np.uint32),
                            refs, np.asarray(term_elements, np.int64),
                            np.asarray(coefficients, float))


def _terms(segment, report):
    """(pointer, coefficient) of every variable of `report` in one segment. A current that
    the segment does not have contributes nothing (a passive dendrite has no ina)."""
    point_processes = None
    for variable in report.variables:
        if variable.mechanism is None:
            try:
                ref = getattr(segment, f"_ref_{variable.attribute}")
            except (AttributeError, NameError, RuntimeError):
                continue
            scale = (segment.area() / 100.0 if report.scaling == "area"
                     and variable.attribute != "i_membrane_" else 1.0)
            yield ref, variable.sign * scale
            continue
        if point_processes is None:
            point_processes = list(segment.point_processes())
        for point_process in point_processes:
            if mechanism_name(point_process) == variable.mechanism:
                yield getattr(point_process, f"_ref_{variable.attribute}"), variable.sign
