"""Which neurons share a core: a core has one set of bias currents for its up to 256 neurons.

`assign_cores` groups by population, then by similar currents, and uses the cores left on the
chips it needs anyway to split a core whose currents spread by more than 10%.
`read_cores_file` takes the assignment from a JSON file instead.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CoreCapacityError, ExportConfigError, NetworkTooBigError
from .parameters import current_spread

NEURONS_PER_CORE = 256
CORES_PER_CHIP = 4
MAX_CHIPS = 4
MAX_CORES = CORES_PER_CHIP * MAX_CHIPS
SPREAD_LIMIT = 0.10
# Where each chip sits on the board's routing grid (x, y); routes between chips hop on it.
DEFAULT_CHIP_POSITIONS = ((0, 0), (1, 0), (0, 1), (1, 1))


@dataclass(frozen=True)
class CoreAssignment:
    """Each neuron's address: chip (0..3), core on the chip (0..3), neuron on the core (0..255)."""

    neuron_chip: np.ndarray
    neuron_core: np.ndarray
    neuron_address: np.ndarray
    chip_position: np.ndarray          # [MAX_CHIPS, 2]
    notes: tuple[str, ...] = ()

    @property
    def neuron_global_core(self) -> np.ndarray:
        """chip * 4 + core: one number per core of the board."""
        return self.neuron_chip * CORES_PER_CHIP + self.neuron_core


def _check_total(n_neurons: int) -> None:
    capacity = MAX_CORES * NEURONS_PER_CORE
    if n_neurons > capacity:
        raise NetworkTooBigError(
            f"the network has {n_neurons} neurons; {MAX_CHIPS} chips x {CORES_PER_CHIP} cores x "
            f"{NEURONS_PER_CORE} neurons = {capacity} fit (over by {n_neurons - capacity})",
            excess=n_neurons - capacity)


def _sorted_chunks(indices: np.ndarray, currents: np.ndarray) -> list[np.ndarray]:
    """Neurons sorted by their currents (first column first), cut into equal cores of <= 256."""
    order = np.lexsort(currents[indices].T[::-1])
    count = math.ceil(len(indices) / NEURONS_PER_CORE)
    return np.array_split(indices[order], count)


def _split_at_largest_gap(segment: np.ndarray, currents: np.ndarray) -> list[np.ndarray]:
    """Two cores from one: along its worst-spread current, cut where neighbours differ most."""
    column = int(np.argmax(current_spread(currents[segment])))
    order = np.argsort(currents[segment, column], kind="stable")
    values = currents[segment[order], column]
    cut = int(np.argmax(np.diff(values))) + 1
    return [segment[order[:cut]], segment[order[cut:]]]


def assign_cores(population: np.ndarray, neuron_currents: np.ndarray) -> CoreAssignment:
    """Group neurons into cores: same population and similar currents together.

    Each population fills ceil(n / 256) cores, so exactly 256 neurons fit one core. If the
    populations need more than 16 cores, neurons of different populations share cores. Then,
    while a core's currents spread by more than 10% and the chips in use have a free core,
    the worst core is split in two.
    """
    notes = []
    _check_total(len(population))
    segments = []
    for name in dict.fromkeys(population):
        segments += _sorted_chunks(np.flatnonzero(population == name), neuron_currents)
    if len(segments) > MAX_CORES:
        notes.append(f"the {len(set(population))} populations need {len(segments)} cores: "
                     "populations share cores")
        segments = _sorted_chunks(np.arange(len(population)), neuron_currents)
    free_cores = CORES_PER_CHIP * math.ceil(len(segments) / CORES_PER_CHIP) - len(segments)
    for _ in range(free_cores):
        spreads = [current_spread(neuron_currents[s]).max() for s in segments]
        worst = int(np.argmax(spreads))
        if spreads[worst] <= SPREAD_LIMIT:
            break
        segments[worst:worst + 1] = _split_at_largest_gap(segments[worst], neuron_currents)
    chip, core, address = (np.zeros(len(population), dtype=np.int64) for _ in range(3))
    for number, segment in enumerate(segments):
        segment = np.sort(segment)
        chip[segment], core[segment] = divmod(number, CORES_PER_CHIP)
        address[segment] = np.arange(len(segment))
    return CoreAssignment(chip, core, address, np.array(DEFAULT_CHIP_POSITIONS), tuple(notes))


def read_cores_file(path, population: np.ndarray, node_id: np.ndarray) -> CoreAssignment:
    """The assignment written by hand in a JSON file:

        {"cores": [{"chip": 0, "core": 1, "population": "exc", "node_ids": [0, 1, 2]}, ...],
         "chip_positions": [[0, 0], [1, 0], [0, 1], [1, 1]]}          (optional)

    Several entries may name the same core (to mix populations); neurons get addresses in
    the order listed. Every exported neuron must be listed exactly once.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ExportConfigError(f"cannot read the cores file: {error}", file=path) from None
    entries = document.get("cores") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ExportConfigError("expected a list of cores", file=path, key="cores")
    _check_total(len(population))
    index = {(str(p), int(i)): n for n, (p, i) in enumerate(zip(population, node_id))}
    chip = np.full(len(population), -1, dtype=np.int64)
    core, address = chip.copy(), chip.copy()
    filled: dict[tuple[int, int], int] = {}  # (chip, core) -> neurons placed so far
    for number, entry in enumerate(entries):
        key = f"cores[{number}]"
        try:
            c, k, pop, ids = (entry["chip"], entry["core"], str(entry["population"]),
                              [int(i) for i in entry["node_ids"]])
        except (KeyError, TypeError, ValueError):
            raise ExportConfigError("each core needs chip, core, population and node_ids",
                                    file=path, key=key) from None
        if not (isinstance(c, int) and 0 <= c < MAX_CHIPS and isinstance(k, int)
                and 0 <= k < CORES_PER_CHIP):
            raise ExportConfigError(f"chip {c}, core {k} does not exist: a board has chips "
                                    f"0..{MAX_CHIPS - 1} with cores 0..{CORES_PER_CHIP - 1}",
                                    file=path, key=key)
        for i in ids:
            n = index.get((pop, i))
            if n is None:
                raise ExportConfigError(f"neuron {pop}[{i}] is not among the exported neurons",
                                        file=path, key=key)
            if chip[n] >= 0:
                raise ExportConfigError(f"neuron {pop}[{i}] is listed twice", file=path, key=key)
            chip[n], core[n], address[n] = c, k, filled.get((c, k), 0)
            filled[(c, k)] = address[n] + 1
    for (c, k), count in sorted(filled.items()):
        if count > NEURONS_PER_CORE:
            raise CoreCapacityError(
                f"{path}: chip {c} core {k} holds {count} neurons; a core holds "
                f"{NEURONS_PER_CORE} (over by {count - NEURONS_PER_CORE})",
                excess=count - NEURONS_PER_CORE)
    missing = np.flatnonzero(chip < 0)
    if missing.size:
        names = ", ".join(f"{population[n]}[{node_id[n]}]" for n in missing[:5])
        raise ExportConfigError(f"{missing.size} exported neuron(s) have no core, e.g. {names}",
                                file=path, key="cores")
    positions = document.get("chip_positions", DEFAULT_CHIP_POSITIONS)
    try:
        positions = np.array(positions, dtype=np.int64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise ExportConfigError("expected [x, y] per chip", file=path,
                                key="chip_positions") from None
    if len(positions) < MAX_CHIPS:
        raise ExportConfigError(f"expected {MAX_CHIPS} [x, y] pairs, got {len(positions)}",
                                file=path, key="chip_positions")
    return CoreAssignment(chip, core, address, positions[:MAX_CHIPS])
