"""Errors of the Dynap-SE export: one class per hardware limit, each naming what and by how much.

Every class derives from DynapseError, itself a NeurodamusError, so the CLI treats them as
user errors (one line, non-zero exit); the config and data errors are also the project's
ConfigError and CircuitError. Anything else raised here is a bug.
"""

from neurodamus.errors import CircuitError, ConfigError, NeurodamusError


class DynapseError(NeurodamusError):
    """Base of the export's user errors."""


class ExportConfigError(DynapseError, ConfigError):
    """A config, node set, cores file or option that cannot be used; names the file and key."""


class NetworkDataError(DynapseError, CircuitError):
    """Node or edge data that is missing or not a point neuron we can export."""


class HardwareLimitError(DynapseError):
    """The network does not fit the chip. `excess` is how far over the limit it is."""

    def __init__(self, message: str, excess: float | None = None):
        self.excess = excess
        super().__init__(message)


class UnrepresentableParameterError(HardwareLimitError):
    """A LIF parameter no bias current can express (negative, zero where it must not be, NaN)."""

    def __init__(self, parameter: str, value: float, neuron: str, reason: str,
                 excess: float | None = None):
        self.parameter, self.value, self.neuron = parameter, value, neuron
        super().__init__(f"neuron {neuron}: {parameter} = {value:g} cannot be represented on the "
                         f"chip ({reason})", excess=excess)


class CoreCapacityError(HardwareLimitError):
    """More than 256 neurons given to one core (by a cores file)."""


class NetworkTooBigError(HardwareLimitError):
    """More neurons, or more cores, than 4 chips hold."""


class TooManyInputsError(HardwareLimitError):
    """A neuron with more than 64 distinct presynaptic sources (CAM slots)."""


class FanOutError(HardwareLimitError):
    """A neuron that sends to more chips than its 3 free destinations (SRAM entries)."""


class TagsExhaustedError(HardwareLimitError):
    """A chip whose 2048 routing tags do not cover the inputs and neurons that need one there."""


class HopOutOfRangeError(HardwareLimitError):
    """A route between chips further apart than 7 hops in x or y."""


class BiasOutOfRangeError(HardwareLimitError):
    """A bias current no (coarse, fine) code of the bias generator reaches."""

    def __init__(self, message: str, name: str, excess: float | None = None):
        self.name = name
        super().__init__(message, excess=excess)
