"""cell_memory_usage.json, the reference simulator's record of what its cells cost in memory,
and its Memory allocation; both pure (no NEURON, no MPI), so that a file written by either
simulator places the cells where the reference simulator would place them.

The file (JSON, keys sorted): `metype_memory` {metype: kB per cell}, `metype_cell_syn_average`
{metype: afferent synapses per cell, summed over the populations holding the metype},
`pop_metype_gids` {population: {metype: [node ids, 0-based, ascending]}}. A metype is
"mtype-etype" where the nodes have both attributes (as the reference names them), else the
cell engine's kind (template/morphology for hoc cells).

The allocation, per population on its own: every metype costs its kB per cell plus 1.9 kB per
synapse (the reference's fixed figure), the metypes from the costliest down (the reference
breaks ties by the order its figures come in, sorted by name when read from the file; here
equal costs put the metype with more cells first, then go by name: identical cells measure
the same here, where the reference's first metype measured on each rank also carries the
loading of its template), their cells in node order gathered into batches of
ceil(cells / ranks / 10), each batch onto the rank whose load is least (ties: the lower rank).
"""

import heapq
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

FILENAME = "cell_memory_usage.json"  # the reference keeps it in the working directory
SYNAPSE_KB = 1.9  # the reference's memory per synapse (AMPA 1.7 to GABAAB 2.0 kB)
ALLOCATION_STEPS = 10  # batches per rank and population, at most
KEYS = ("metype_memory", "metype_cell_syn_average", "pop_metype_gids")


@dataclass
class CellMemoryUsage:
    metype_memory: dict[str, float] = field(default_factory=dict)  # kB per cell
    metype_cell_syn_average: dict[str, float] = field(default_factory=dict)
    pop_metype_gids: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def write(self, path: Path):
        data = {"metype_memory": self.metype_memory,
                "metype_cell_syn_average": self.metype_cell_syn_average,
                "pop_metype_gids": self.pop_metype_gids}
        Path(path).write_text(json.dumps(data, sort_keys=True, indent=4))

    @classmethod
    def read(cls, path: Path) -> "CellMemoryUsage":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read the cell memory usage: {error}", file=path) from None
        missing = [key for key in KEYS if not isinstance(data.get(key), dict)]
        if missing:
            raise ConfigError("missing or not an object (the reference's cell memory usage "
                              f"has {', '.join(KEYS)})", file=path, key=missing[0])
        try:
            return cls({str(k): float(v) for k, v in data["metype_memory"].items()},
                       {str(k): float(v) for k, v in data["metype_cell_syn_average"].items()},
                       {str(pop): {str(m): [int(i) for i in ids] for m, ids in metypes.items()}
                        for pop, metypes in data["pop_metype_gids"].items()})
        except (TypeError, ValueError, AttributeError) as error:
            raise ConfigError(f"not numbers where numbers belong: {error}", file=path,
                              key="metype_memory") from None

    def describes(self, other: "CellMemoryUsage") -> bool:
        """Whether this (read) file covers `other`'s cells (measured from the circuit now):
        the same cells under the same metypes, each metype's memory known."""
        known = set(self.metype_memory)
        return (self.pop_metype_gids == other.pop_metype_gids
                and all(set(metypes) <= known for metypes in other.pop_metype_gids.values()))


def cell_kb(usage: CellMemoryUsage) -> dict[str, float]:
    """kB of one cell of each metype with its synapses, costliest first; equal costs: the
    metype with more cells first, then by name (the file's order)."""
    costs = {metype: kb + SYNAPSE_KB * usage.metype_cell_syn_average.get(metype, 0.0)
             for metype, kb in sorted(usage.metype_memory.items())}
    cells = {metype: 0 for metype in costs}
    for metypes in usage.pop_metype_gids.values():
        for metype, ids in metypes.items():
            cells[metype] = cells.get(metype, 0) + len(ids)
    return dict(sorted(costs.items(), key=lambda item: (-item[1], -cells[item[0]])))


def allocate(usage: CellMemoryUsage, n_ranks: int, cycles: int = 1) -> dict:
    """{population: {(rank, cycle): [node ids]}}, as the reference allocates them."""
    costs = cell_kb(usage)
    return {population: _allocate_population(metypes, costs, n_ranks, cycles)
            for population, metypes in usage.pop_metype_gids.items()}


def _allocate_population(metypes: dict, costs: dict, n_ranks: int, cycles: int) -> dict:
    total = sum(len(ids) for ids in metypes.values())
    batch_size = max(1, math.ceil(total / (n_ranks * cycles) / ALLOCATION_STEPS))
    buckets = [(0.0, (rank, cycle)) for rank in range(n_ranks) for cycle in range(cycles)]
    heapq.heapify(buckets)
    allocation: dict[tuple[int, int], list[int]] = {}

    def place(batch, memory):
        load, bucket = heapq.heappop(buckets)
        allocation.setdefault(bucket, []).extend(batch)
        heapq.heappush(buckets, (load + memory, bucket))

    batch, memory = [], 0.0
    for metype, kb in costs.items():
        for node_id in metypes.get(metype, []):
            batch.append(node_id)
            memory += kb
            if len(batch) == batch_size:
                place(batch, memory)
                batch, memory = [], 0.0
    if batch:
        place(batch, memory)
    return allocation


def bucket_loads(usage: CellMemoryUsage, allocation: dict, n_ranks: int) -> list[float]:
    """kB each rank holds (all populations and cycles)."""
    costs = cell_kb(usage)
    metype_of = {(pop, node_id): metype for pop, metypes in usage.pop_metype_gids.items()
                 for metype, ids in metypes.items() for node_id in ids}
    loads = [0.0] * n_ranks
    for population, buckets in allocation.items():
        for (rank, _), node_ids in buckets.items():
            loads[rank] += sum(costs[metype_of[(population, i)]] for i in node_ids)
    return loads
