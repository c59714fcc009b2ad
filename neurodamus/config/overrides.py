"""`connection_overrides`: an ordered list (a dict before SONATA 2.4, read leniently) of
changes to the synapses between a source and a target node set. Later entries win where
they overlap. Checked here against the raw JSON, because libsonata ignores unknown keys."""

from dataclasses import dataclass
from typing import cast

from ..connectivity.synapse_models import MODELS as SYNAPSE_MODELS
from ..values import is_finite_number
from .checks import ProblemList

SUPPORTED = {"name", "source", "target", "weight", "spont_minis", "synapse_configure",
             "delay", "synapse_delay_override", "modoverride", "neuromodulation_dtc",
             "neuromodulation_strength"}
NOT_SUPPORTED: set[str] = set()


@dataclass(frozen=True)
class ConnectionOverride:
    name: str
    source: str
    target: str
    weight: float | None = None  # multiplies the synapse conductance
    spont_minis: float | None = None  # Hz of spontaneous release per synapse
    synapse_configure: str | None = None  # hoc statement, %s = the synapse
    delay: float = 0.0  # weight and synapse_configure take effect from this time on
    synapse_delay_override: float | None = None  # replaces the edge delay (ms)
    modoverride: str | None = None  # a registered synapse model used instead of the default
    neuromodulation_dtc: float | None = None  # ms, replaces the edges' neuromod_dtc
    neuromodulation_strength: float | None = None  # replaces the edges' neuromod_strength


def _number(raw, field, key, problems, minimum=0.0, strictly=False):
    value = raw.get(field)
    if value is None:
        return None
    if not is_finite_number(value):
        problems.add(f"must be a number, got {value!r}", key=f"{key}.{field}")
        return None
    if value < minimum or (strictly and value == minimum):
        problems.add(f"must be {'>' if strictly else '>='} {minimum}, got {value}",
                     key=f"{key}.{field}")
        return None
    return float(value)


def load_overrides(raw_overrides, problems: ProblemList) -> list[ConnectionOverride]:
    if isinstance(raw_overrides, dict):  # SONATA < 2.4: name -> spec, in file order
        raw_overrides = [{"name": name, **spec} for name, spec in raw_overrides.items()]
    overrides = []
    for index, raw in enumerate(raw_overrides or []):
        key = f"connection_overrides[{index}]"
        if not isinstance(raw, dict):
            problems.add("must be an object", key=key)
            continue
        before = len(problems.items)
        for field in sorted(set(raw) - SUPPORTED):
            reason = "is not supported yet" if field in NOT_SUPPORTED else "is not a known key"
            problems.add(f"'{field}' {reason}", key=f"{key}.{field}")
        for field in ("source", "target"):
            if not isinstance(raw.get(field), str):
                problems.add("a node set name is required", key=f"{key}.{field}")
        configure = raw.get("synapse_configure")
        if configure is not None and (not isinstance(configure, str) or "%s" not in configure):
            problems.add("must be a hoc statement containing %s (the synapse)",
                         key=f"{key}.synapse_configure")
        modoverride = raw.get("modoverride")
        if modoverride is not None and modoverride not in SYNAPSE_MODELS:
            problems.add(SYNAPSE_MODELS.unknown(modoverride), key=f"{key}.modoverride")
        # source and target are strings whenever the override is kept (checked above; a
        # problem otherwise, and the override is dropped below).
        override = ConnectionOverride(
            name=str(raw.get("name", f"override_{index}")), source=cast(str, raw.get("source")),
            target=cast(str, raw.get("target")), weight=_number(raw, "weight", key, problems),
            spont_minis=_number(raw, "spont_minis", key, problems),
            synapse_configure=configure,
            delay=_number(raw, "delay", key, problems) or 0.0,
            synapse_delay_override=_number(raw, "synapse_delay_override", key, problems,
                                           strictly=True),
            modoverride=modoverride if isinstance(modoverride, str) else None,
            neuromodulation_dtc=_number(raw, "neuromodulation_dtc", key, problems),
            neuromodulation_strength=_number(raw, "neuromodulation_strength", key, problems))
        if len(problems.items) == before:
            overrides.append(override)
    return overrides
