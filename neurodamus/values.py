"""Checks on raw JSON values shared by every config section."""

import math


def is_finite_number(value) -> bool:
    """A JSON number that is finite; JSON booleans are not numbers here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
