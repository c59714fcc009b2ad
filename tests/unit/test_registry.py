"""The one Registry type: registration as decorator or call, the one unknown-name message,
ordered lookup, and every registry of the package being one."""

from typing import Any

import pytest

from neurodamus.cells.allen import PROCESSORS
from neurodamus.cells.engines import ENGINES
from neurodamus.cells.point import POINT_MODELS
from neurodamus.connectivity.builder import EDGE_CONVENTIONS
from neurodamus.connectivity.synapse_models import MODELS
from neurodamus.connectivity.weight_functions import WEIGHT_FUNCTIONS
from neurodamus.dialects import DIALECTS
from neurodamus.errors import CircuitError
from neurodamus.modifications import MODIFICATION_TYPES
from neurodamus.registry import Registry
from neurodamus.reports import REPORT_TYPES
from neurodamus.stimuli import STIMULUS_MODULES


def test_decorator_and_call_register_alike_and_set_the_name():
    registry: Registry[str, type] = Registry("widget", "kind", name_attribute="name")

    @registry.register("round")
    class Round:
        name = ""

    square: Any = registry.register("square", type("Square", (), {}))
    assert registry["round"] is Round and Round.name == "round"
    assert square.name == "square" and registry["square"] is square
    assert list(registry) == ["round", "square"] and len(registry) == 2
    with pytest.raises(ValueError, match="widget 'round' is registered twice"):
        registry.register("round", object())


def test_unknown_names_the_kind_the_key_and_the_known_entries():
    registry: Registry[str, int] = Registry("widget", "kind")
    registry.register("b", 2)
    registry.register("a", 1)
    assert registry.unknown("c") == "unknown widget 'c' for kind (known: a, b)"
    assert registry.unknown("c", key="widgets.x.kind", hint="; try a") == \
        "unknown widget 'c' for widgets.x.kind (known: a, b); try a"
    assert registry.not_named(None) == "missing mandatory key (known: a, b)"
    assert registry.not_named("c") == registry.unknown("c")
    assert registry.lookup("a", ValueError) == 1
    with pytest.raises(CircuitError, match=r"population 'p': unknown widget 'c' for kind"):
        registry.lookup("c", lambda message: CircuitError(message, population="p"))
    unhashable: object = []  # a JSON value that names nothing
    assert unhashable not in registry


def test_ordered_lookup_first_match_wins():
    registry: Registry[str, tuple] = Registry("rule", "type", several=True)
    registry.register("t", 1)
    registry.register("t", 2)
    registry.register("u", 3)
    assert registry["t"] == (1, 2)
    assert registry.first(lambda n: n > 1, key="t") == 2
    assert registry.first(lambda n: n > 0) == 1
    assert registry.first(lambda n: n > 5) is None
    assert registry.entries() == [("t", 1), ("t", 2), ("u", 3)]


def test_every_registry_of_the_package_is_a_registry():
    registries: list[Registry] = [STIMULUS_MODULES, REPORT_TYPES, MODIFICATION_TYPES, ENGINES, MODELS,
                  POINT_MODELS, WEIGHT_FUNCTIONS, EDGE_CONVENTIONS, DIALECTS, PROCESSORS]
    assert all(isinstance(r, Registry) and len(r) > 0 for r in registries)
    assert len({r.kind for r in registries}) == len(registries)
