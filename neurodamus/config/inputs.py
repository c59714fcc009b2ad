"""The `inputs` section: common keys checked here, module parameters by the stimulus registry."""

from typing import cast

from ..stimuli.registry import STIMULUS_MODULES
from ..values import is_finite_number
from .checks import ProblemList
from .settings import InputSettings

COMMON_KEYS = {"module", "input_type", "node_set", "compartment_set", "delay", "duration"}


def load_inputs(raw_inputs: dict, problems: ProblemList, compartment_sets=None,
                circuit=None, warnings: list[str] | None = None) -> list[InputSettings]:
    """InputSettings for each input, in the order of `raw_inputs`; problems (unknown module,
    bad parameter) go to `problems`.

    `compartment_sets` (a config.compartment_sets.CompartmentSets) resolves compartment_set
    targets, checked against `circuit` when given; None leaves them unresolved. An input
    whose parameters make no waveform (Stimulus.idle_reason) adds a line to `warnings`.
    """
    if not isinstance(raw_inputs, dict):
        problems.add("must be an object", key="inputs")
        return []
    inputs = []
    for name in raw_inputs:  # in the config's order (see loader._in_config_order)
        raw = raw_inputs[name]
        key = f"inputs.{name}"
        if not isinstance(raw, dict):
            problems.add("must be an object", key=key)
            continue
        problems_before = len(problems.items)
        module = raw.get("module")
        stimulus = STIMULUS_MODULES.get(module) if isinstance(module, str) else None
        if stimulus is None:
            problems.add(STIMULUS_MODULES.not_named(module), key=f"{key}.module")
            continue
        _check_target(raw, key, problems)
        _check_window(raw, key, problems)
        if stimulus.zero_delay and raw.get("delay") not in (0, None):
            problems.add(f"module '{module}' acts from t = 0: delay must be 0", key=f"{key}.delay")
        input_type = raw.get("input_type")
        if input_type is None:
            problems.add("missing mandatory key", key=f"{key}.input_type")
        parameters = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
        for message, parameter in stimulus.validate(parameters, input_type):
            if not (input_type is None and parameter == "input_type"):
                problems.add(message, key=f"{key}.{parameter}")
        compartments = None
        if isinstance(raw.get("compartment_set"), str) and compartment_sets is not None:
            compartments = compartment_sets.resolve(
                raw["compartment_set"], f"{key}.compartment_set", problems, circuit)
        if len(problems.items) == problems_before:
            idle = stimulus.idle_reason(parameters, float(raw["duration"]))
            if idle is not None and warnings is not None:
                warnings.append(f"{key}: {idle} makes no waveform: module '{module}' does "
                                "nothing")
            # Both are strings here: a stimulus was found for the module, and a missing
            # input_type added a problem.
            inputs.append(InputSettings(name=name, module=cast(str, module),
                                        input_type=cast(str, input_type),
                                        node_set=raw.get("node_set"), delay=float(raw["delay"]),
                                        duration=float(raw["duration"]), parameters=parameters,
                                        compartment_set=compartments))
    return inputs


def _check_target(raw: dict, key: str, problems: ProblemList):
    """Exactly one of node_set and compartment_set, a name; spikes go to node sets only."""
    given = [field for field in ("node_set", "compartment_set") if field in raw]
    if len(given) != 1:
        problems.add("needs exactly one of node_set and compartment_set, got "
                     f"{' and '.join(given) or 'neither'}", key=f"{key}.node_set")
        return
    field = given[0]
    if not isinstance(raw[field], str) or not raw[field]:
        problems.add(f"must be the name of a {field.replace('_', ' ')}, got {raw[field]!r}",
                     key=f"{key}.{field}")
    elif field == "compartment_set" and raw.get("input_type") == "spikes":
        problems.add("spikes inputs target a node_set", key=f"{key}.compartment_set")


def _check_window(raw: dict, key: str, problems: ProblemList):
    for field in ("delay", "duration"):
        value = raw.get(field)
        if value is None:
            problems.add("missing mandatory key", key=f"{key}.{field}")
        elif not is_finite_number(value):
            problems.add(f"must be a number, got {value!r}", key=f"{key}.{field}")
        elif value < 0:
            problems.add(f"must not be negative, got {value}", key=f"{key}.{field}")
