"""Node and edge type tables: the space-separated CSV files (`node_types_file`,
`edge_types_file`) that hold what bmtk circuits share between many nodes or edges.

A table is read once, in bulk, into one column per attribute indexed by type id. A column
is integer, float or text by its values; `NONE` (bmtk's empty value) becomes NaN in a
number column and "" in a text column. Columns the driver computes with must be numbers.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

EMPTY_VALUES = {"NONE", "None", "none", "NULL", ""}
# Columns that the engines and connection conventions use as numbers.
NUMERIC_COLUMNS = {"delay", "syn_weight", "nsyns", "weight_sigma", "weight_max", "x", "y", "z",
                   "tuning_angle", "rotation_angle_xaxis", "rotation_angle_yaxis",
                   "rotation_angle_zaxis", "sec_x", "sec_id", "afferent_section_id",
                   "afferent_section_pos"}


@dataclass(frozen=True)
class TypeTable:
    """Columns of one type table, row i describing type id `type_ids[i]`."""

    file: Path
    id_column: str
    type_ids: np.ndarray
    columns: dict  # name -> np.ndarray (int64, float64 or object of str)

    def rows_of(self, type_ids: np.ndarray, population: str) -> np.ndarray:
        """The table row of every given type id; an id the table lacks is an error."""
        order = np.argsort(self.type_ids, kind="stable")
        sorted_ids = self.type_ids[order]
        where = np.searchsorted(sorted_ids, type_ids)
        where = np.clip(where, 0, max(len(sorted_ids) - 1, 0))
        found = sorted_ids[where] == type_ids if len(sorted_ids) else np.zeros(len(type_ids), bool)
        if not np.all(found):
            missing = int(np.asarray(type_ids)[~found][0])
            raise ConfigError(f"{self.id_column} {missing} of population '{population}' is not "
                              "in this table", file=self.file, key=self.id_column)
        return order[where]


def read_type_table(path: Path, id_column: str) -> TypeTable:
    """Read a type table; every problem is a ConfigError naming the file and the column."""
    if not path.is_file():
        raise ConfigError("type table not found", file=path)
    try:
        with open(path, newline="") as stream:
            rows = [row for row in csv.reader(stream, delimiter=" ", quotechar='"',
                                              skipinitialspace=True) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"cannot read the type table: {error}", file=path) from None
    if not rows:
        raise ConfigError("empty type table (a header line is needed)", file=path)
    header, body = rows[0], rows[1:]
    if id_column not in header:
        raise ConfigError(f"no '{id_column}' column (the header is {' '.join(header)})",
                          file=path, key=id_column)
    if len(set(header)) != len(header):
        twice = sorted({name for name in header if header.count(name) > 1})
        raise ConfigError(f"column '{twice[0]}' appears twice", file=path, key=twice[0])
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ConfigError(f"line {line} has {len(row)} values for {len(header)} columns",
                              file=path)
    columns = {name: _typed_column([row[i] for row in body], name, path)
               for i, name in enumerate(header)}
    ids = columns.pop(id_column)
    if ids.dtype.kind != "i":
        raise ConfigError("type ids must be integers", file=path, key=id_column)
    if len(np.unique(ids)) != len(ids):
        values, counts = np.unique(ids, return_counts=True)
        raise ConfigError(f"type id {int(values[counts > 1][0])} appears twice", file=path,
                          key=id_column)
    return TypeTable(path, id_column, ids, columns)


def _typed_column(values: list[str], name: str, path: Path) -> np.ndarray:
    """int64 if every value is an integer, float64 if every value is a number (NONE: NaN),
    else text; a column the driver computes with must be numbers."""
    present = [v for v in values if v not in EMPTY_VALUES]
    try:
        if all(_is_integer(v) for v in present) and len(present) == len(values):
            return np.array([int(v) for v in values], np.int64)
        return np.array([float(v) if v not in EMPTY_VALUES else np.nan for v in values])
    except ValueError:
        pass
    if name in NUMERIC_COLUMNS:
        bad = next(v for v in present if not _is_number(v))
        raise ConfigError(f"column '{name}' must hold numbers, found {bad!r}", file=path, key=name)
    return np.array(["" if v in EMPTY_VALUES else v for v in values], dtype=object)


def _is_integer(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
