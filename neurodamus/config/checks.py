"""Collecting config problems so that a user sees all of them in one run."""

from ..errors import ConfigError


class ProblemList:
    """Problems found while validating one config file; raised together as one ConfigError."""

    def __init__(self, file):
        self.file = file
        self.items: list[tuple[str, str | None, object]] = []

    def add(self, message: str, key: str | None = None, file=None):
        self.items.append((message, key, file or self.file))

    def raise_if_any(self):
        if not self.items:
            return
        if len(self.items) == 1:
            message, key, file = self.items[0]
            raise ConfigError(message, file=file, key=key)
        lines = [str(ConfigError(m, file=f, key=k)) for m, k, f in self.items]
        raise ConfigError(f"{len(lines)} problems:\n  " + "\n  ".join(lines))
