"""The per-node values that relative modules scale, checked for each cell before use.

A node that lacks one (NaN: the nodes file has no such dynamics_params) is a CircuitError
naming the population, the attribute and the input, raised before any NEURON object of the
input exists on that cell.
"""

import math

from ..errors import CircuitError


def node_value(cell, attribute: str, settings) -> float:
    """threshold_current or holding_current (nA), input_resistance (MOhm) of the cell's node."""
    value = float(getattr(cell, attribute, math.nan))
    if not math.isfinite(value):
        raise CircuitError(
            f"input '{settings.name}' (module '{settings.module}') needs "
            f"@dynamics/{attribute}, which node {cell.node_id} does not have",
            population=cell.population)
    if attribute == "input_resistance" and value <= 0:
        raise CircuitError(
            f"input '{settings.name}' (module '{settings.module}') needs a positive "
            f"@dynamics/input_resistance, node {cell.node_id} has {value}",
            population=cell.population)
    return value


def relative_scale(cell, settings) -> float:
    """What percentages refer to: the threshold current (nA) for a current, the inverse
    input resistance (uS) for a conductance."""
    if settings.input_type == "conductance":
        return 1.0 / node_value(cell, "input_resistance", settings)
    return node_value(cell, "threshold_current", settings)
