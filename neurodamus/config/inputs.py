"""The `inputs` section: common keys checked here, module parameters by the stimulus registry."""

from ..stimuli.registry import STIMULUS_MODULES
from .checks import ProblemList
from .settings import InputSettings

COMMON_KEYS = {"module", "input_type", "node_set", "compartment_set", "delay", "duration"}


def load_inputs(raw_inputs: dict, problems: ProblemList) -> list[InputSettings]:
    """InputSettings for each input; problems (unknown module, bad parameter) go to `problems`."""
    inputs = []
    for name in sorted(raw_inputs):
        raw = raw_inputs[name]
        problems_before = len(problems.items)
        if not isinstance(raw, dict):
            problems.add("must be an object", key=f"inputs.{name}")
            continue
        key = f"inputs.{name}"
        module = raw.get("module")
        stimulus = STIMULUS_MODULES.get(module)
        if stimulus is None:
            problems.add(f"module '{module}' is not supported; known modules: "
                         f"{', '.join(sorted(STIMULUS_MODULES))}", key=f"{key}.module")
            continue
        if "node_set" not in raw:
            problems.add("only node_set targets are supported (compartment_set is not yet)",
                         key=f"{key}.node_set")
            continue
        for field in ("delay", "duration"):
            value = raw.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.add(f"must be a number, got {value!r}", key=f"{key}.{field}")
            elif value < 0:
                problems.add(f"must not be negative, got {value}", key=f"{key}.{field}")
        parameters = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
        for message, parameter in stimulus.validate(parameters, raw.get("input_type")):
            problems.add(message, key=f"{key}.{parameter}")
        if len(problems.items) == problems_before:
            inputs.append(InputSettings(name=name, module=module, input_type=raw["input_type"],
                                        node_set=raw["node_set"], delay=float(raw["delay"]),
                                        duration=float(raw["duration"]), parameters=parameters))
    return inputs
