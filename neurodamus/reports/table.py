"""All the elements of one report on one rank, in a fixed order: populations as given,
cells by node id, each cell's elements as its report type listed them. This order is the
column order of the rank's frames and of its part file."""

from dataclasses import dataclass, field

import numpy as np

from .elements import CellElements


@dataclass
class PopulationColumns:
    """One population's share of a rank's columns."""

    name: str
    node_ids: np.ndarray  # uint64
    element_counts: np.ndarray  # uint64, per node
    element_ids: np.ndarray  # uint32
    first_column: int

    @property
    def columns(self) -> slice:
        return slice(self.first_column, self.first_column + int(self.element_ids.size))


@dataclass
class ElementTable:
    populations: list[PopulationColumns] = field(default_factory=list)
    refs: list = field(default_factory=list)
    term_columns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros(0))
    column_count: int = 0

    @classmethod
    def from_cells(cls, cells: list[CellElements], population_order: list[str]) -> "ElementTable":
        rank = {name: i for i, name in enumerate(population_order)}
        cells = sorted(cells, key=lambda c: (rank[c.population], c.node_id))
        table = cls()
        term_columns, coefficients = [], []
        for name in population_order:
            members = [c for c in cells if c.population == name]
            if not members:
                continue
            first = table.column_count
            for cell in members:
                term_columns.append(cell.term_elements + table.column_count)
                coefficients.append(cell.coefficients)
                table.refs.extend(cell.refs)
                table.column_count += int(cell.element_ids.size)
            table.populations.append(PopulationColumns(
                name=name,
                node_ids=np.array([c.node_id for c in members], np.uint64),
                element_counts=np.array([c.element_ids.size for c in members], np.uint64),
                element_ids=np.concatenate([c.element_ids for c in members]).astype(np.uint32),
                first_column=first))
        if term_columns:
            table.term_columns = np.concatenate(term_columns).astype(np.int64)
            table.coefficients = np.concatenate(coefficients).astype(float)
        return table

    @property
    def one_term_per_column(self) -> bool:
        """Compartment-like reports: each column is one value, copied as it is."""
        return (self.term_columns.size == self.column_count
                and np.array_equal(self.term_columns, np.arange(self.column_count))
                and bool(np.all(self.coefficients == 1.0)))

    def combiner(self):
        """A function: gathered values (one per term) -> the frame (one per column), in float64
        before the file's float32."""
        if self.one_term_per_column:
            return lambda values: values
        columns, coefficients, count = self.term_columns, self.coefficients, self.column_count
        return lambda values: np.bincount(columns, weights=values * coefficients, minlength=count)
