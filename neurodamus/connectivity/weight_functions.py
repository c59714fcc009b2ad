"""Weight functions of bmtk-convention edges: the name in an edge's `weight_function` ->
its weight from `syn_weight` and, for some, edge and node attributes. This registry is
the only list of valid names ("" or an absent column: the default, syn_weight itself).

bmtk's functions, whose results are reproduced here:
- `default_weight_fnc`, `set_syn_weight`, `wmax`: syn_weight;
- `gaussianLL`: syn_weight x exp(-(d / weight_sigma)^2), d the difference of the source's and
  the target's `tuning_angle` (degrees) folded into [0, 90]:
  d = | | |180 - (|t - s| mod 360)| - 90| - 90|.
All are computed in bulk, one array per edge population.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import libm
from ..errors import CircuitError
from ..registry import Registry

DEFAULT = ""  # no weight_function: syn_weight


@dataclass(frozen=True)
class WeightFunction:
    name: str
    # (syn_weight, edge columns, source node columns, target node columns) -> weights
    compute: Callable
    edge_attributes: tuple[str, ...] = ()  # beyond syn_weight
    node_attributes: tuple[str, ...] = ()  # read on both the source and the target nodes


def _syn_weight(weights, edges, sources, targets):
    return np.asarray(weights, float)


def _gaussian_ll(weights, edges, sources, targets):
    difference = np.abs(np.asarray(targets["tuning_angle"], float)
                        - np.asarray(sources["tuning_angle"], float))
    folded = np.abs(np.abs(np.abs(180.0 - np.mod(difference, 360.0)) - 90.0) - 90.0)
    sigma = np.asarray(edges["weight_sigma"], float)
    return np.asarray(weights, float) * libm.exp(-(folded / sigma) ** 2)


WEIGHT_FUNCTIONS: Registry[str, WeightFunction] = Registry("weight function", "weight_function")


def register(function: WeightFunction, *aliases: str):
    """The function under its name and each alias."""
    for name in (function.name, *aliases):
        WEIGHT_FUNCTIONS.register(name, function)


register(WeightFunction("default_weight_fnc", _syn_weight), DEFAULT, "set_syn_weight", "wmax")
register(WeightFunction("gaussianLL", _gaussian_ll, edge_attributes=("weight_sigma",),
                        node_attributes=("tuning_angle",)))


def weight_function(name, population: str, file=None) -> WeightFunction:
    """The registered function of this name (None or "" is the default)."""
    key = "" if name is None else str(name)
    return WEIGHT_FUNCTIONS.lookup(
        key, lambda message: CircuitError(message, population=population, file=file))
