"""What is wrong with an array, counted and exemplified in one vectorised pass."""

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("neurodamus")


@dataclass(frozen=True)
class BadValues:
    """`count` of `total` values of `attribute` that are `what` ("negative", ...), with the
    first one as an example (`example_id` is its edge or node id)."""

    file: str
    population: str
    attribute: str
    what: str
    count: int
    total: int
    example_id: int
    example_value: object
    items: str = "edges"
    note: str = ""  # more about the example

    @property
    def key(self) -> tuple:
        return (self.file, self.population, self.attribute, self.what, self.items)

    def describe(self) -> str:
        """The message without its place (file, population), for the CircuitError prefix."""
        singular = self.items.removesuffix("s")
        value = self.example_value
        value = format(value, ".6g") if isinstance(value, float) else value
        return (f"attribute '{self.attribute}': {self.count} of {self.total} {self.items} "
                f"{self.what} ({singular} {self.example_id}: {value}"
                f"{', ' + self.note if self.note else ''})")

    def message(self) -> str:
        return f"file {self.file}, population '{self.population}', {self.describe()}"


def find_bad(mask, ids, values, *, file, population: str, attribute: str, what: str,
             items: str = "edges", note=None) -> BadValues | None:
    """A BadValues for the True entries of `mask` (None when there are none)."""
    mask = np.asarray(mask, bool)
    count = int(np.count_nonzero(mask))
    if count == 0:
        return None
    first = int(np.argmax(mask))
    value = np.asarray(values)[first]
    return BadValues(str(file), population, attribute, what, count, int(mask.size),
                     int(np.asarray(ids)[first]), value.item() if hasattr(value, "item") else value,
                     items, note(first) if note else "")


def merge(parts) -> list[BadValues]:
    """Sum the counts of the same problem found on several ranks (example: lowest id)."""
    merged: dict[tuple, BadValues] = {}
    for bad in parts:
        seen = merged.get(bad.key)
        if seen is None:
            merged[bad.key] = bad
            continue
        example = bad if bad.example_id < seen.example_id else seen
        merged[bad.key] = BadValues(bad.file, bad.population, bad.attribute, bad.what,
                                    seen.count + bad.count, seen.total + bad.total,
                                    example.example_id, example.example_value, bad.items,
                                    example.note)
    return list(merged.values())


def log_warning_totals(parallel, local: list[BadValues]):
    """Log each warning once, on rank 0, with the counts of all ranks (a collective: call it
    on every rank, outside any phase that can fail)."""
    gathered = parallel.gather(list(local))
    if parallel.is_root:
        for bad in merge(b for part in gathered for b in part):
            log.warning("warning: %s", bad.message())
