"""User-facing errors: one class per kind, each naming the file and the key or population.

Anything that is not a NeurodamusError is a bug in neurodamus (or in NEURON) and is
handled as such by the CLI: a traceback and an abort of all ranks.
"""


class NeurodamusError(Exception):
    """Base of the errors a user can fix: the message alone must say what and where."""


class ConfigError(NeurodamusError):
    """A simulation or circuit config, node sets file or input that is malformed or inconsistent."""

    def __init__(self, message: str, file=None, key: str | None = None):
        self.file, self.key = file, key
        where = ", ".join(part for part in (
            f"file {file}" if file else "", f"key '{key}'" if key else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


class CircuitError(NeurodamusError):
    """Circuit data (nodes, edges, morphologies, templates) missing or inconsistent."""

    def __init__(self, message: str, population: str | None = None, file=None):
        self.population, self.file = population, file
        where = ", ".join(part for part in (
            f"population '{population}'" if population else "",
            f"file {file}" if file else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


class MechanismError(NeurodamusError):
    """NMODL mechanisms that are missing, fail to compile, or fail to load."""

    def __init__(self, message: str, file=None):
        self.file = file
        super().__init__(f"mod file {file}: {message}" if file else message)


class ParallelError(NeurodamusError):
    """MPI is not usable as asked (e.g. NEURON did not load the MPI library)."""


class AgreedError(NeurodamusError):
    """An error raised on one rank and re-raised on every rank, so that all stop together."""
