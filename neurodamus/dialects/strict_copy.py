"""Strict copies of lenient node and edge files: one group per population, with the type
tables' columns merged under the per-node (per-edge) HDF5 attributes, so that libsonata,
node sets and every later phase read them like any SONATA file.

What is merged, for each population:
* the attributes of every group, row by row (a multi-group population becomes one group;
  an attribute a group lacks is NaN or "" on its rows);
* every type-table column the HDF5 file does not give for that row (the HDF5 value wins);
* the type table's `dynamics_params` file name as `dynamics_params_file`, and the numbers
  of that JSON file, when it is flat (point neurons, synapses), as `dynamics_params/<key>`;
* bmtk's edge columns `sec_id` / `sec_x` as `afferent_section_id` / `afferent_section_pos`;
* edge indices written anew by libsonata.
Datasets are written uncompressed (the libsonata wheel has no deflate filter).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import libsonata
import numpy as np

from ..errors import ConfigError
from ..hdf5_files import stamp_sonata
from .type_tables import TypeTable

TEXT = h5py.string_dtype("utf-8")
EDGE_RENAMES = {"sec_id": "afferent_section_id", "sec_x": "afferent_section_pos"}
NOT_COPIED = {"node_type_id", "edge_type_id", "dynamics_params"}


@dataclass(frozen=True)
class PopulationSummary:
    name: str
    size: int
    model_types: tuple[str, ...]  # the distinct model_type values of its nodes (nodes only)
    source: str = ""  # edges only: the source and target node populations
    target: str = ""


def _decoded(group: h5py.Group, name: str) -> np.ndarray:
    """A group's attribute as numbers or str objects (@library enumerations expanded)."""
    values = group[name][()]
    library = group.get("@library")
    if library is not None and name in library:
        words = np.asarray([_text(w) for w in library[name][()]], dtype=object)
        return words[np.asarray(values, np.int64)]
    if values.dtype.kind in "SOU":
        return np.asarray([_text(v) for v in values], dtype=object)
    return np.asarray(values)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _group_columns(population: h5py.Group, kind: str, count: int, file: Path):
    """(plain columns, dynamics columns): every group's attributes spread over the rows."""
    if f"{kind}_group_id" in population and f"{kind}_group_index" in population:
        group_ids = np.asarray(population[f"{kind}_group_id"][()], np.int64)
        group_index = np.asarray(population[f"{kind}_group_index"][()], np.int64)
    else:  # one implicit group "0", in row order
        group_ids, group_index = np.zeros(count, np.int64), np.arange(count)
    if len(group_ids) != count or len(group_index) != count:
        raise ConfigError(f"{kind}_group_id / {kind}_group_index do not have one value per "
                          f"{kind} of population '{population.name.split('/')[-1]}'", file=file)
    plain: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}  # name -> (rows, values)
    dynamics: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for group_id in np.unique(group_ids).tolist():
        group = population.get(str(group_id))
        if not isinstance(group, h5py.Group):
            raise ConfigError(f"group '{group_id}' named by {kind}_group_id is missing from "
                              f"population '{population.name.split('/')[-1]}'", file=file)
        rows = np.nonzero(group_ids == group_id)[0]
        for target, source in ((plain, group), (dynamics, group.get("dynamics_params"))):
            if not isinstance(source, h5py.Group):
                continue
            for name, item in source.items():
                if not isinstance(item, h5py.Dataset) or name.startswith("@"):
                    continue
                values = _decoded(source, name)
                if len(values) <= group_index[rows].max(initial=-1):
                    raise ConfigError(f"attribute '{name}' of group {group_id} is shorter than "
                                      f"its {kind}_group_index", file=file)
                for column, part in _columns(name, values):
                    target.setdefault(column, []).append((rows, part[group_index[rows]]))
    return ({n: _spread(parts, count) for n, parts in plain.items()},
            {n: _spread(parts, count) for n, parts in dynamics.items()})


def _columns(name: str, values: np.ndarray):
    """(column name, values) of one dataset: bmtk's (N, 3) `positions` as x, y, z; other
    datasets of more than one dimension have no SONATA column and are left out."""
    if values.ndim == 1:
        return [(name, values)]
    if name == "positions" and values.ndim == 2 and values.shape[1] == 3:
        return [(axis, values[:, i]) for i, axis in enumerate("xyz")]
    return []


def _spread(parts, count: int):
    """One column from per-group pieces; rows no piece covers are marked missing."""
    text = any(values.dtype == object for _, values in parts)
    column = np.full(count, "", dtype=object) if text else np.full(count, np.nan)
    if not text and all(values.dtype.kind in "iub" for _, values in parts):
        column = np.zeros(count, np.int64)
    present = np.zeros(count, bool)
    for rows, values in parts:
        column[rows] = values.astype(str) if text and values.dtype != object else values
        present[rows] = True
    if not present.all() and column.dtype.kind in "iub":
        column = column.astype(float)
        column[~present] = np.nan
    return column, present


def _merge(hdf5: tuple | None, table_column: np.ndarray | None) -> np.ndarray | None:
    """The HDF5 value where its group gives one, else the type table's (one of the two is
    given: the column comes from either)."""
    if hdf5 is None:
        return table_column
    values, present = hdf5
    if table_column is None or present.all():
        return values
    if values.dtype == object or table_column.dtype == object:
        out = np.asarray([str(v) for v in table_column], dtype=object)
        out[present] = [str(v) for v in values[present]]
        return out
    out = table_column.astype(np.result_type(values.dtype, table_column.dtype))
    out[present] = values[present]
    return out


def _merged(hdf5: dict, table: dict) -> dict:
    """Every column of either source, merged row by row (see _merge)."""
    return {name: _merge(hdf5.get(name), table.get(name)) for name in set(hdf5) | set(table)}


def _flat_numbers(path: Path, table: TypeTable) -> dict:
    """The numeric entries of a flat JSON parameter file (nested files give none)."""
    if not path.is_file():
        raise ConfigError(f"dynamics_params file {path} not found", file=table.file,
                          key="dynamics_params")
    try:
        content = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"dynamics_params file {path} is not valid JSON: {error}",
                          file=table.file, key="dynamics_params") from None
    if not isinstance(content, dict):
        return {}
    return {k: float(v) for k, v in content.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _table_columns(table: TypeTable | None, type_ids: np.ndarray, population: str,
                   json_dir_of) -> tuple[dict, dict]:
    """(plain, dynamics) columns of the type table, one value per row of the population."""
    if table is None:
        return {}, {}
    rows = table.rows_of(type_ids, population)
    plain = {name: column[rows] for name, column in table.columns.items()
             if name not in NOT_COPIED}
    dynamics: dict[str, np.ndarray] = {}
    files = table.columns.get("dynamics_params")
    if files is None:
        return plain, dynamics
    names = np.asarray([str(v) if str(v) != "nan" else "" for v in files], dtype=object)
    plain["dynamics_params_file"] = names[rows]
    per_type = {}
    for i, name in enumerate(names):
        directory = json_dir_of(table, i)
        if name and directory is not None:
            per_type[i] = _flat_numbers(directory / name, table)
    keys = sorted({k for numbers in per_type.values() for k in numbers})
    for key in keys:
        by_row = np.array([per_type.get(i, {}).get(key, np.nan) for i in range(len(names))])
        dynamics[key] = by_row[rows]
    return plain, dynamics


def _write_column(group: h5py.Group, name: str, values: np.ndarray):
    if values.dtype == object:
        group.create_dataset(name, data=[str(v) for v in values], dtype=TEXT)
    else:
        group.create_dataset(name, data=values)


def _write_group(population_out: h5py.Group, kind: str, count: int, plain: dict, dynamics: dict):
    population_out.create_dataset(f"{kind}_group_id", data=np.zeros(count, np.uint32))
    population_out.create_dataset(f"{kind}_group_index", data=np.arange(count, dtype=np.uint64))
    group = population_out.create_group("0")
    for name, values in sorted(plain.items()):
        _write_column(group, name, values)
    if dynamics:
        sub = group.create_group("dynamics_params")
        for name, values in sorted(dynamics.items()):
            _write_column(sub, name, np.asarray(values, float) if values.dtype != object
                          else values)


def _populations(source: h5py.File, kind: str, file: Path):
    """(name, group) of every population under /nodes or /edges; none is an error."""
    group = source.get(kind)
    if not isinstance(group, h5py.Group) or not len(group):
        raise ConfigError(f"no /{kind}/<population> group", file=file)
    return list(group.items())


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise ConfigError(f"not a readable HDF5 file ({error})", file=path) from None


def copy_nodes(nodes_file: Path, table: TypeTable | None, out_file: Path,
               models_dirs: dict) -> list[PopulationSummary]:
    """Write the strict copy of every population of `nodes_file`; `models_dirs` maps a
    model_type to the directory of its dynamics_params JSON files."""
    summaries = []
    with _open(nodes_file) as source, h5py.File(out_file, "w") as out:
        stamp_sonata(out)
        for name, population in _populations(source, "nodes", nodes_file):
            type_ids = np.asarray(population["node_type_id"][()], np.int64) \
                if "node_type_id" in population else None
            if type_ids is None:
                raise ConfigError(f"population '{name}' has no node_type_id", file=nodes_file)
            count = len(type_ids)
            hdf5_plain, hdf5_dynamics = _group_columns(population, "node", count, nodes_file)
            model_types = table.columns.get("model_type") if table is not None else None

            def json_dir(table, row, model_types=model_types):
                model_type = str(model_types[row]) if model_types is not None else ""
                return models_dirs.get(model_type)

            table_plain, table_dynamics = _table_columns(table, type_ids, name, json_dir)
            plain = _merged(hdf5_plain, table_plain)
            dynamics = _merged(hdf5_dynamics, table_dynamics)
            population_out = out.create_group(f"nodes/{name}")
            population_out.create_dataset("node_type_id", data=type_ids)
            if "node_id" in population:
                population_out.create_dataset("node_id", data=population["node_id"][()])
            _write_group(population_out, "node", count, plain, dynamics)
            kinds = plain.get("model_type")
            model_types_found = tuple(sorted({str(v) for v in kinds})) if kinds is not None else ()
            summaries.append(PopulationSummary(name, count, model_types_found))
    return summaries


def write_virtual_nodes(out_file: Path, name: str, size: int):
    """A virtual node population of `size` nodes (the spiking copies of replayed sources)."""
    with h5py.File(out_file, "w") as out:
        stamp_sonata(out)
        population = out.create_group(f"nodes/{name}")
        population.create_dataset("node_type_id", data=np.zeros(size, np.int64))
        _write_group(population, "node", size, {"model_type": np.full(size, "virtual", object)},
                     {})


def copy_edges(edges_file: Path, table: TypeTable | None, out_file: Path,
               synaptic_models_dir: Path | None, node_counts: dict,
               source_suffix: str = "") -> list[PopulationSummary]:
    """Write the strict copy of every edge population of `edges_file`, with indices written
    by libsonata (the files' own, where they have any, may use older dataset names).
    `source_suffix` renames each population and its source population (replay edges
    from virtual copies of the sources)."""
    summaries = []
    with _open(edges_file) as source, h5py.File(out_file, "w") as out:
        stamp_sonata(out)
        indexed = []
        for name, population in _populations(source, "edges", edges_file):
            for end in ("source_node_id", "target_node_id", "edge_type_id"):
                if end not in population:
                    raise ConfigError(f"edge population '{name}' has no {end}", file=edges_file)
            type_ids = np.asarray(population["edge_type_id"][()], np.int64)
            count = len(type_ids)
            hdf5_plain, hdf5_dynamics = _group_columns(population, "edge", count, edges_file)
            table_plain, table_dynamics = _table_columns(
                table, type_ids, name, lambda table, row: synaptic_models_dir)
            plain = _merged(hdf5_plain, table_plain)
            for old, new in EDGE_RENAMES.items():
                if old in plain and new not in plain:
                    plain[new] = plain.pop(old)
            dynamics = _merged(hdf5_dynamics, table_dynamics)
            name = name + source_suffix
            population_out = out.create_group(f"edges/{name}")
            ends = {}
            for end in ("source_node_id", "target_node_id"):
                dataset = population_out.create_dataset(end, data=population[end][()])
                node_population = _text(population[end].attrs.get("node_population", ""))
                if not node_population:
                    raise ConfigError(f"{end} of edge population '{name}' has no "
                                      "node_population attribute", file=edges_file)
                if end == "source_node_id":
                    node_population += source_suffix
                dataset.attrs["node_population"] = node_population
                ends[end] = node_population
            population_out.create_dataset("edge_type_id", data=type_ids)
            _write_group(population_out, "edge", count, plain, dynamics)
            indexed.append((name, ends))  # bmtk's indices use older dataset names
            summaries.append(PopulationSummary(name, count, (), ends["source_node_id"],
                                               ends["target_node_id"]))
    for name, ends in indexed:
        libsonata.EdgePopulation.write_indices(
            str(out_file), name, node_counts.get(ends["source_node_id"], 0),
            node_counts.get(ends["target_node_id"], 0))
    return summaries
