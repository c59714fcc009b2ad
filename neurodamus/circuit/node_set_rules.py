"""Node sets on populations that lack an attribute a rule selects by.

A rule like {"mtype": "L4_PC"} reaching a population without `mtype` (a virtual
population, a point-neuron family) selects nothing there, as the reference simulator's
node sets do; libsonata raises instead. So such a population gets its own copy of the node
sets in which every basic rule naming an attribute it lacks is replaced by an empty
selection; compound sets (lists of names) keep their meaning.
"""

import json

import libsonata
import numpy as np

EMPTY_RULE: dict[str, list] = {"node_id": []}
# keys of a basic rule that are not node attributes
NOT_ATTRIBUTES = frozenset({"population", "node_id"})
DYNAMICS = "@dynamics:"


def _lacks(rule: dict, attributes: frozenset, dynamics: frozenset) -> bool:
    for key in rule:
        if key in NOT_ATTRIBUTES:
            continue
        if key.startswith(DYNAMICS):
            if key[len(DYNAMICS):] not in dynamics:
                return True
        elif key not in attributes:
            return True
    return False


def restricted_node_sets(node_sets, storage) -> libsonata.NodeSets:
    """`node_sets` with each basic rule selecting by an attribute `storage` lacks emptied."""
    attributes = frozenset(storage.attribute_names)
    dynamics = frozenset(storage.dynamics_attribute_names)
    definitions = json.loads(node_sets.toJSON())
    for name, rule in definitions.items():
        if isinstance(rule, dict) and _lacks(rule, attributes, dynamics):
            definitions[name] = EMPTY_RULE
    return libsonata.NodeSets(json.dumps(definitions))


class NodeSetResolver:
    """Node ids of a node set in a population: libsonata's, and its restricted copy of the
    node sets (made once per population) where libsonata finds an attribute missing."""

    def __init__(self, node_sets):
        self.node_sets = node_sets
        self._restricted: dict[str, libsonata.NodeSets] = {}

    def node_ids(self, node_set: str, storage) -> np.ndarray:
        node_sets = self._restricted.get(storage.name, self.node_sets)
        try:
            selection = node_sets.materialize(node_set, storage)
        except libsonata.SonataError:
            if storage.name in self._restricted:
                raise
            self._restricted[storage.name] = restricted_node_sets(self.node_sets, storage)
            selection = self._restricted[storage.name].materialize(node_set, storage)
        return np.asarray(selection.flatten(), dtype=np.int64)
