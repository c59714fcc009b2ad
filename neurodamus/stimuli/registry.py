"""Input module name -> stimulus class. The registry is the only list of valid modules:
config validation asks it, so adding a module is one class and one `@register`."""

import math
from typing import Any, ClassVar

from ..registry import Registry

# What a parameter must be: one type, or a tuple of them as isinstance takes it.
ParameterType = type | tuple[type, ...]

NUMBER: tuple[type, ...] = (int, float)

STIMULUS_MODULES: Registry[str, type["Stimulus"]] = Registry(
    "input module", "module", name_attribute="module")


def register(module_name: str):
    """Class decorator: the input module of this name (sets the class's `module`)."""
    return STIMULUS_MODULES.register(module_name)


class Stimulus:
    """Base of all input modules.

    Subclasses declare `input_types`, `required` and `optional` parameters (name -> type),
    `defaults` for optional ones, which numbers must be `positive` or `non_negative`, and
    may add cross-parameter rules in `check`. They implement `attach(cell, h, context)`,
    which creates the NEURON objects on one cell and returns them (the caller keeps them
    alive); `context` is a StimulusContext (seeds, time step, where on the cell).
    """

    # Class-level declarations, shared by all instances; subclasses replace them, never
    # mutate them.
    module: ClassVar[str] = ""
    input_types: ClassVar[tuple[str, ...]] = ()
    required: ClassVar[dict[str, ParameterType]] = {}
    optional: ClassVar[dict[str, ParameterType]] = {}
    defaults: ClassVar[dict[str, Any]] = {}
    positive: ClassVar[tuple[str, ...]] = ()
    non_negative: ClassVar[tuple[str, ...]] = ()
    zero_delay: ClassVar[bool] = False  # the module acts from t = 0 (SONATA allows no delay)
    # Inputs of one random family number their streams together (manager.block_indices).
    random_family: ClassVar[str | None] = None
    # Parameters that, when 0, leave the input with no waveform (it runs, doing nothing):
    # a warning before the run (config/inputs.py), not an error, since configs written for
    # the reference simulator may hold such inputs and it accepts them.
    idle_if_zero: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def validate(cls, parameters: dict, input_type: str | None):
        """Yield (message, parameter name) for every problem with this input's parameters."""
        if input_type not in cls.input_types:
            yield (f"module '{cls.module}' takes input_type {' or '.join(cls.input_types)}, "
                   f"not '{input_type}'", "input_type")
        known = {**cls.required, **cls.optional}
        for name in cls.required:
            if name not in parameters:
                yield f"missing mandatory parameter of module '{cls.module}'", name
        well_typed = {}
        for name, value in parameters.items():
            if name not in known:
                yield f"unknown parameter of module '{cls.module}'", name
            elif not _has_type(value, known[name]):
                yield f"must be {_type_name(known[name])}, got {value!r}", name
            elif known[name] == NUMBER and not math.isfinite(value):
                yield f"must be a finite number, got {value!r}", name
            else:
                well_typed[name] = value
        for name in cls.positive:
            if name in well_typed and not well_typed[name] > 0:
                yield f"must be positive, got {well_typed[name]}", name
        for name in cls.non_negative:
            if name in well_typed and well_typed[name] < 0:
                yield f"must not be negative, got {well_typed[name]}", name
        if len(well_typed) == len(parameters) and set(cls.required) <= set(parameters):
            yield from cls.check({**cls.defaults, **well_typed}, input_type)

    @classmethod
    def idle_reason(cls, parameters: dict, duration: float) -> str | None:
        """Why an input with these (valid) parameters does nothing, or None."""
        if duration == 0 and not cls.zero_delay:
            return "duration 0"
        values = {**cls.defaults, **parameters}
        zero = [name for name in cls.idle_if_zero if values.get(name) == 0]
        return f"{zero[0]} 0" if zero else None

    @classmethod
    def check(cls, parameters: dict, input_type: str | None):
        """Rules between parameters, once all mandatory ones are there and all are well
        typed (defaults filled in)."""
        return ()

    def __init__(self, settings):
        self.settings = settings

    def parameter(self, name: str):
        """A parameter's value, or its default."""
        return self.settings.parameters.get(name, self.defaults.get(name))

    def draws(self) -> bool:
        """Whether this input counts in its random family: the reference simulator skips,
        without counting, the inputs whose parameters make them do nothing."""
        return True

    def attach(self, cell, h, context):
        raise NotImplementedError


def _has_type(value, expected) -> bool:
    """isinstance, except that JSON booleans are not numbers."""
    if isinstance(value, bool):
        return expected is bool
    return isinstance(value, expected)


def _type_name(expected) -> str:
    return "a number" if expected == NUMBER else f"of type {expected.__name__}"
