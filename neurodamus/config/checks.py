"""Collecting config problems so that a user sees all of them in one run."""

import re

from ..errors import ConfigError

# libsonata passes on its JSON parser's messages with an internal code in front.
_JSON_EXCEPTION_CODE = re.compile(r"\[json\.exception\.[a-z_]+\.\d+\]\s*")


def libsonata_reason(error: Exception) -> str:
    """libsonata's message without the JSON library's internal error codes."""
    return _JSON_EXCEPTION_CODE.sub("", str(error)).strip()


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
