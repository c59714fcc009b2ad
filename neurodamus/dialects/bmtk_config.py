"""bmtk's simulation-config keys that libsonata rejects or reads otherwise, one registry
entry each: what a config needs it for (`needed`, which also makes the bmtk dialect take
the config) and the rewrite into the strict form (`apply`), said once as a leniency.

Entries run in registration order within their stage: "config" entries before the circuit
is opened (the config alone), "nodes" entries after (they need the node populations, in
bmtk's gid order, and their sizes).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError


@dataclass
class Context:
    """What the rewrites of one read share."""
    config_file: Path
    leniencies: object  # bmtk_json.Leniencies
    extra_sets: dict = field(default_factory=dict)  # generated node-set name -> definition
    sizes: dict = field(default_factory=dict)  # node population -> size, bmtk's gid order

    def node_set_name(self, definition, key: str, name: str | None = None) -> str:
        """A name for a node set written inline (an object, or bmtk gids as a list)."""
        name = name or f"neurodamus_{key.replace('.', '_')}"
        if isinstance(definition, list):
            parts = self.gid_list(definition, key)
            if len(parts) != 1:  # a compound node set of one set per population
                for index, part in enumerate(parts):
                    self.extra_sets[f"{name}_{index}"] = part
                definition = [f"{name}_{index}" for index in range(len(parts))]
            else:
                definition = parts[0]
        self.extra_sets[name] = definition
        return name

    def gid_list(self, gids: list, key: str) -> list[dict]:
        """bmtk's list of node ids: gids over every population in gid order (one
        population's node ids when there is one population)."""
        if not all(isinstance(g, int) and not isinstance(g, bool) and g >= 0 for g in gids):
            raise ConfigError("a node list must hold non-negative integers", file=self.config_file,
                              key=key)
        parts, offset = [], 0
        for population, size in self.sizes.items():
            ids = sorted(g - offset for g in gids if offset <= g < offset + size)
            if ids:
                parts.append({"population": population, "node_id": ids})
            offset += size
        beyond = [g for g in gids if g >= offset]
        if beyond:
            raise ConfigError(f"node ids {beyond[:5]} are beyond the {offset} nodes of the "
                              "circuit", file=self.config_file, key=key)
        return parts


@dataclass(frozen=True)
class Rewrite:
    key: str
    stage: str  # "config" | "nodes"
    needed: Callable  # (raw config) -> bool
    apply: Callable  # (raw config, Context) -> raw config


REWRITES: list[Rewrite] = []


def rewrite(key: str, stage: str, needed: Callable):
    def register(function):
        REWRITES.append(Rewrite(key, stage, needed, function))
        return function
    return register


def needs_rewrite(raw: dict) -> bool:
    return any(entry.needed(raw) for entry in REWRITES)


def apply_rewrites(raw: dict, stage: str, context: Context) -> dict:
    for entry in REWRITES:
        if entry.stage == stage and entry.needed(raw):
            raw = entry.apply(raw, context)
    return raw


def _entries(raw: dict, section: str) -> dict:
    value = raw.get(section)
    return value if isinstance(value, dict) else {}


def _any_entry(raw, section, test) -> bool:
    return any(isinstance(e, dict) and test(e) for e in _entries(raw, section).values())


# -- config stage ---------------------------------------------------------------------------

@rewrite("inputs.*.enabled", "config",
         lambda raw: _any_entry(raw, "inputs", lambda e: "enabled" in e)
         or _any_entry(raw, "reports", lambda e: "enabled" in e))
def _enabled(raw, context):
    """bmtk leaves out inputs and reports with "enabled": false."""
    for section in ("inputs", "reports"):
        kept = {}
        for name, entry in _entries(raw, section).items():
            if isinstance(entry, dict) and "enabled" in entry:
                if not entry["enabled"]:
                    context.leniencies.add(f"{section}.{name}.enabled", "false: left out (bmtk)")
                    continue
                entry = {k: v for k, v in entry.items() if k != "enabled"}
            kept[name] = entry
        if section in raw:
            raw = {**raw, section: kept}
    return raw


@rewrite("network", "config", lambda raw: not isinstance(raw.get("network"), str)
         and not isinstance(raw.get("networks"), dict))
def _circuit_beside(raw, context):
    """libsonata's rule: without `network`, the circuit_config.json beside the config."""
    beside = context.config_file.parent / "circuit_config.json"
    if beside.is_file():
        context.leniencies.add("network", f"missing: {beside} (beside the config)")
        raw = {**raw, "network": str(beside)}
    return raw


@rewrite("node_sets", "nodes", lambda raw: isinstance(raw.get("node_sets"), dict))
def _node_sets_inline(raw, context):
    """bmtk reads node sets written in the simulation config itself (a list: bmtk gids)."""
    for name, definition in raw["node_sets"].items():
        context.node_set_name(definition, f"node_sets.{name}", name)
    context.leniencies.add("node_sets", "node sets of the simulation config itself (bmtk)")
    return {k: v for k, v in raw.items() if k != "node_sets"}


@rewrite("output.overwrite_output_dir", "config",
         lambda raw: "overwrite_output_dir" in _entries(raw, "output"))
def _overwrite(raw, context):
    context.leniencies.add("output.overwrite_output_dir", "not used: outputs are always "
                                                          "overwritten")
    return {**raw, "output": {k: v for k, v in raw["output"].items()
                              if k != "overwrite_output_dir"}}


# -- nodes stage ----------------------------------------------------------------------------

def _inline(value) -> bool:
    return isinstance(value, (dict, list))


@rewrite("node_set", "nodes", lambda raw: _inline(raw.get("node_set"))
         or _any_entry(raw, "inputs", lambda e: _inline(e.get("node_set")))
         or _any_entry(raw, "reports", lambda e: _inline(e.get("cells"))))
def _inline_node_sets(raw, context):
    """Node sets written in place (an object, or a list of bmtk gids): named and added to
    the node sets file."""
    if _inline(raw.get("node_set")):
        raw = {**raw, "node_set": context.node_set_name(raw["node_set"], "node_set")}
    for section, key in (("inputs", "node_set"), ("reports", "cells")):
        rewritten = {}
        for name, entry in _entries(raw, section).items():
            if isinstance(entry, dict) and _inline(entry.get(key)) and \
                    entry.get("module") != "replay":
                where = f"{section}.{name}.{key}"
                entry = {**entry, key: context.node_set_name(entry[key], where)}
                context.leniencies.add(where, "written in place: read as a node set")
            rewritten[name] = entry
        if section in raw:
            raw = {**raw, section: rewritten}
    return raw

