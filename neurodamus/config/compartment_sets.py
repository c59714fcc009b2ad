"""compartment_sets_file: named sets of (node_id, section_id, offset) in one population.

libsonata reads the file and rejects a list that is not strictly sorted (which rules out
duplicates) or an offset outside [0, 1]; its errors become problems naming the file. Only
the sets that inputs name are copied into the settings.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libsonata

from .checks import ProblemList
from .settings import CompartmentSetSettings


@dataclass(frozen=True)
class CompartmentSets:
    """The simulation's compartment sets file (None if it declares none) and its parsed
    content (None if the file is missing or invalid, a problem already reported)."""

    file: Path | None = None
    sets: Any = None  # libsonata.CompartmentSets (untyped), None if none was read

    def resolve(self, name: str, key: str, problems: ProblemList, circuit=None):
        """The named set as settings, or None after adding a problem under `key`."""
        if self.file is None:
            problems.add("a compartment_set target needs a top-level compartment_sets_file",
                         key=key)
            return None
        if self.sets is None:
            return None
        if name not in self.sets:
            problems.add(f"compartment set '{name}' is not defined in {self.file}", key=key)
            return None
        parsed = json.loads(self.sets[name].toJSON())
        population = parsed["population"]
        if circuit is not None:
            known = {p.name: p for p in circuit.node_populations}
            if population not in known:
                problems.add(f"compartment set '{name}' names population '{population}', which "
                             f"the circuit {circuit.config_file} does not have",
                             key=key, file=self.file)
                return None
            if known[population].type == "virtual":
                problems.add(f"compartment set '{name}' is in the virtual population "
                             f"'{population}', whose nodes have no compartments",
                             key=key, file=self.file)
                return None
        locations = tuple((int(n), int(s), float(x)) for n, s, x in parsed["compartment_set"])
        return CompartmentSetSettings(name=name, population=population, file=self.file,
                                      locations=locations)


def load_compartment_sets(config, problems: ProblemList) -> CompartmentSets:
    """Read the compartment_sets_file of a libsonata SimulationConfig, if it names one."""
    if not config.compartment_sets_file:
        return CompartmentSets()
    path = Path(config.compartment_sets_file)
    if not path.is_file():
        problems.add(f"compartment sets file {path} not found", key="compartment_sets_file")
        return CompartmentSets(path)
    try:
        sets = libsonata.CompartmentSets.from_file(str(path))
    except (libsonata.SonataError, RuntimeError) as error:
        problems.add(f"invalid compartment sets: {error}", file=path)
        return CompartmentSets(path)
    return CompartmentSets(path, sets)
