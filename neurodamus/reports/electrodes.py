"""The electrodes of an `extracellular` report (extracellular.py), read and checked in the
config phase: a CSV file, whitespace separated, with the header `channel x_pos y_pos z_pos`
(um, circuit coordinates; `channel` optional: 0, 1, ... when absent), the channels the
report records (`electrode_channels`), `minimum_distance` and `contributions_dir`. Every
problem is added to the config's problem list with its key.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..values import is_finite_number

COLUMNS = ("x_pos", "y_pos", "z_pos")


@dataclass(frozen=True)
class ElectrodeSettings:
    """The electrodes of one extracellular report, read and checked in the config phase."""

    file: str
    channels: tuple[int, ...]  # the recorded channel ids, in file order
    positions: tuple[tuple[float, float, float], ...]  # um, one per recorded channel
    minimum_distance: float | str | None = None  # um, "auto" (segment radius) or None
    contributions_dir: str | None = None  # relative to the output directory (or absolute)


def read_electrodes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(channel ids, positions [n x 3] um) of an electrode CSV; ValueError says what is wrong."""
    if not path.is_file():
        raise ValueError(f"electrode file {path} not found")
    try:
        lines = [(number, line.split()) for number, line in
                 enumerate(path.read_text().splitlines(), start=1) if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"electrode file {path} cannot be read as text: {error}") from None
    if not lines:
        raise ValueError(f"electrode file {path} is empty")
    header = lines[0][1]
    if not set(COLUMNS) <= set(header) or len(set(header)) != len(header):
        raise ValueError(f"electrode file {path}: the header must name the columns "
                         f"channel {' '.join(COLUMNS)} (once each), got '{' '.join(header)}'")
    rows = lines[1:]
    if not rows:
        raise ValueError(f"electrode file {path} lists no electrode")
    names = ("channel", *COLUMNS) if "channel" in header else COLUMNS
    index = [header.index(name) for name in names]
    values = np.empty((len(rows), len(names)))
    for row, (number, words) in enumerate(rows):
        if len(words) != len(header):
            raise ValueError(f"electrode file {path}, line {number}: {len(words)} values for "
                             f"the {len(header)} columns of the header")
        for column, (name, at) in enumerate(zip(names, index)):
            try:
                values[row, column] = float(words[at])
            except ValueError:
                raise ValueError(f"electrode file {path}, line {number}: {name} "
                                 f"'{words[at]}' is not a number") from None
            if not math.isfinite(values[row, column]):
                raise ValueError(f"electrode file {path}, line {number}: {name} "
                                 f"'{words[at]}' is not a finite number")
    if "channel" in header:
        channels = values[:, 0]
        if np.any(channels != np.round(channels)) or np.any(channels < 0):
            raise ValueError(f"electrode file {path}: channel ids must be non-negative integers")
        channels = channels.astype(np.int64)
        if np.unique(channels).size != channels.size:
            raise ValueError(f"electrode file {path}: a channel id is listed twice")
        return channels, values[:, 1:]
    return np.arange(len(rows), dtype=np.int64), values


def chosen_channels(value, channels: np.ndarray, key: str, problems) -> np.ndarray | None:
    """Indices into the file's rows of the channels `electrode_channels` asks for."""
    if value is None or value == "all":
        return np.arange(channels.size)
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        problems.add(f"must be 'all' or a list of channel ids, got {value!r}", key=key)
        return None
    where = {int(c): i for i, c in enumerate(channels)}
    unknown = [v for v in value if v not in where]
    if unknown:
        problems.add(f"channels {unknown} are not in the electrode file", key=key)
        return None
    if len(set(value)) != len(value):
        problems.add("a channel is listed twice", key=key)
        return None
    return np.array([where[v] for v in value], np.int64)


def load_electrode_settings(raw: dict, key: str, problems, base_dir: Path):
    """ElectrodeSettings from the report's JSON (key `key`), or None (problems added)."""
    before = len(problems.items)
    file = raw.get("electrode_positions")
    electrodes = None
    if not isinstance(file, str) or not file:
        problems.add("missing: the CSV file of the electrode positions (channel x_pos y_pos "
                     "z_pos)", key=f"{key}.electrode_positions")
    else:
        file = str(base_dir / file) if not Path(file).is_absolute() else file
        try:
            electrodes = read_electrodes(Path(file))
        except ValueError as error:
            problems.add(str(error), key=f"{key}.electrode_positions")
    if raw.get("unit", "mV") != "mV":
        problems.add(f"an extracellular report is in mV, got {raw['unit']!r}",
                     key=f"{key}.unit")
    minimum = raw.get("minimum_distance")
    if minimum is not None and minimum != "auto" and not (
            is_finite_number(minimum) and minimum >= 0):
        problems.add(f"must be a non-negative number (um) or 'auto', got {minimum!r}",
                     key=f"{key}.minimum_distance")
    contributions = raw.get("contributions_dir")
    if contributions is not None and not (isinstance(contributions, str) and contributions):
        problems.add(f"must be a directory name, got {contributions!r}",
                     key=f"{key}.contributions_dir")
    chosen = None
    if electrodes is not None:
        chosen = chosen_channels(raw.get("electrode_channels"), electrodes[0],
                                  f"{key}.electrode_channels", problems)
    if len(problems.items) > before or chosen is None or electrodes is None:
        return None
    channels, positions = electrodes
    return ElectrodeSettings(
        file=str(file), channels=tuple(int(c) for c in channels[chosen]),
        positions=tuple((float(x), float(y), float(z)) for x, y, z in positions[chosen]),
        minimum_distance=minimum if minimum in (None, "auto") else float(minimum),
        contributions_dir=contributions)
