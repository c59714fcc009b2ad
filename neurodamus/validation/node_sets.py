"""Node sets whose `node_id` lists name nodes beyond their populations (libsonata drops
such ids silently, so a typo would simulate fewer cells without a word), and compound
node sets that include each other (libsonata says only "recursion depth exceeded")."""

import numpy as np


def _rules(node_sets: dict, name: str, seen: frozenset = frozenset()):
    """(node set name, rule dict) of `name` and of the node sets it combines."""
    value = node_sets.get(name)
    if name in seen or value is None:
        return
    if isinstance(value, list):
        for part in value:
            if isinstance(part, str):
                yield from _rules(node_sets, part, seen | {name})
    elif isinstance(value, dict):
        yield name, value


def check_node_set_ids(node_sets: dict, names, sizes: dict[str, int]) -> list[str]:
    """One message per node set (among `names` and those they combine) with node ids beyond
    the population(s) it names: the largest population when it names none."""
    messages, done = [], set()
    for used in dict.fromkeys(names):
        for rule_name, rule in _rules(node_sets, used):
            if rule_name in done or "node_id" not in rule:
                continue
            done.add(rule_name)
            populations = rule.get("population", sorted(sizes))
            populations = [populations] if isinstance(populations, str) else list(populations)
            known = [sizes[p] for p in populations if p in sizes]
            if not known:
                continue  # an unknown population is check_node_sets' message
            ids = np.atleast_1d(np.asarray(rule["node_id"]))
            if ids.dtype.kind not in "iu":
                messages.append(f"node set '{rule_name}': node_id must be integers")
                continue
            limit = max(known)
            bad = (ids >= limit) | (ids < 0)
            if bad.any():
                where = f"population '{populations[0]}'" if len(populations) == 1 else \
                    f"populations {populations}"
                messages.append(
                    f"node set '{rule_name}', attribute 'node_id': {int(bad.sum())} of "
                    f"{ids.size} node ids are beyond {where} ({limit} nodes) (e.g. "
                    f"{int(ids[np.argmax(bad)])})")
    return messages


def node_set_cycle(node_sets: dict) -> list[str] | None:
    """Names of compound node sets that include each other, in order, the first repeated at
    the end (['a', 'b', 'a']); None when there is no cycle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        if state.get(name) == 1:
            return [*path[path.index(name):], name]
        value = node_sets.get(name)
        if state.get(name) == 2 or not isinstance(value, list):
            return None
        state[name] = 1
        for part in value:
            if isinstance(part, str):
                cycle = visit(part, [*path, name])
                if cycle:
                    return cycle
        state[name] = 2
        return None

    for name in node_sets:
        cycle = visit(name, [])
        if cycle:
            return cycle
    return None


def is_empty_as_written(node_sets: dict, name: str, seen: frozenset = frozenset()) -> bool:
    """Whether node set `name` selects nothing whatever the circuit: a rule with an empty
    `node_id` list, or a compound of such (or of nothing)."""
    value = node_sets.get(name)
    if name in seen or value is None:
        return False
    if isinstance(value, list):
        return all(isinstance(part, str) and is_empty_as_written(node_sets, part, seen | {name})
                   for part in value)
    return isinstance(value, dict) and value.get("node_id") == []
