"""One registry type for every kind the phases choose by what a config or circuit says: input
modules, report types, modifications, cell engines, synapse models, point models, weight
functions, edge conventions, config dialects, Allen model_processing steps.

A phase never asks which simulator a circuit was written for; it asks a registry. Adding a
kind is one entry in one file (docs/architecture.md lists them), registered as a decorator
(`@REGISTRY.register("name")` on a class) or as a call (`REGISTRY.register("name", entry)`).

Lookups by name that fail give one wording everywhere, `unknown KIND 'NAME' for KEY (known:
...)`, naming the config key whose value chose the entry; the caller wraps it in the error
of its layer (ConfigError, CircuitError), which adds the file and the key path or population.
Tables asked in order (edge conventions within an edge type, config dialects) keep the order
of registration: `first(test)` returns the first entry the test accepts.

A registry reads as a mapping (`name in registry`, `registry[name]`, `.items()`), so code that
read the former dicts reads it unchanged.
"""

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING: Any = object()


class Registry(Mapping[K, V], Generic[K, V]):
    """Entries by key, in registration order.

    `kind` names an entry in messages ("input module"); `config_key` the key whose value
    chooses one ("module"). `name_attribute`: the decorator form sets this attribute of the
    registered class to its key (`Stimulus.module`, `ReportType.type_name`). `several`: a key
    holds several entries, in order (`registry[key]` is then a tuple of them)."""

    def __init__(self, kind: str, config_key: str, *, name_attribute: str | None = None,
                 several: bool = False, sort_known: bool = True):
        self.kind = kind
        self.config_key = config_key
        self.name_attribute = name_attribute
        self.several = several
        self.sort_known = sort_known
        self._entries: list[tuple[K, Any]] = []
        self._by_key: dict[K, list] = {}

    def register(self, key: K, entry: Any = _MISSING) -> Any:
        """`register(key, entry)` adds `entry` and returns it; `register(key)` is a decorator
        adding the class (or function) it decorates."""
        if entry is _MISSING:
            def decorate(item):
                return self.register(key, item)
            return decorate
        if key in self._by_key and not self.several:
            raise ValueError(f"{self.kind} '{key}' is registered twice")
        if self.name_attribute is not None:
            setattr(entry, self.name_attribute, key)
        self._entries.append((key, entry))
        self._by_key.setdefault(key, []).append(entry)
        return entry

    def __getitem__(self, key: K) -> V:
        found = self._by_key[key]
        entry: Any = tuple(found) if self.several else found[0]
        return entry

    def __iter__(self) -> Iterator[K]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._by_key
        except TypeError:  # an unhashable value read from JSON names no entry
            return False

    def entries(self) -> list[tuple[K, Any]]:
        """Every (key, entry) pair, in registration order (one per entry when `several`)."""
        return list(self._entries)

    def first(self, test: Callable[[Any], bool], key: K = _MISSING) -> Any:
        """Ordered lookup: the first entry (under `key`, if given) that `test` accepts, or
        None."""
        return next((entry for k, entry in self._entries
                     if (key is _MISSING or k == key) and test(entry)), None)

    def known(self, names: Callable[[K], str] = str, keys: Iterable[K] | None = None) -> str:
        """The keys (or those of `keys`: the ones a config may name), as a message shows them."""
        shown = [names(key) for key in (self if keys is None else keys) if str(key)]
        return ", ".join(sorted(shown) if self.sort_known else shown)

    def unknown(self, name, key: str | None = None, names: Callable[[K], str] = str,
                keys: Iterable[K] | None = None, hint: str = "") -> str:
        """The one message for a name no entry has: `unknown KIND 'NAME' for KEY (known:
        ...)`; `key` replaces the registry's config key, `names` how a key is shown, `keys`
        which are listed (default all), `hint` what to write instead."""
        return (f"unknown {self.kind} '{name}' for {key or self.config_key} "
                f"(known: {self.known(names, keys)}){hint}")

    def not_named(self, value) -> str:
        """Why a config value chooses no entry: the key is missing (None), or names none."""
        if value is None:
            return f"missing mandatory key (known: {self.known()})"
        return self.unknown(value)

    def lookup(self, name, fail: Callable[[str], Exception], key: str | None = None) -> V:
        """The entry of `name`, or `fail(message)` raised with the unknown-name message."""
        if name not in self:
            raise fail(self.unknown(name, key))
        return self[name]
