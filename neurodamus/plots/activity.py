"""Figures of a run's spiking activity per population, as a neuroscientist reads a raster:
mean rate per cell, irregularity (coefficient of variation of the inter-spike intervals),
the fraction of cells that fire in each time window, and the longest time the population
was silent. Printed by ci/example (`python -m neurodamus.plots.activity OUTPUT_DIR`) and
checked by the example's tests, so that a network that falls silent or fires like a clock
is seen in numbers, not only in the pictures. Needs no matplotlib.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .outputs import PlotError, PopulationSpikes, check_output_dir, read_spikes

MIN_INTERVALS = 4  # a cell's CV is only taken from at least this many inter-spike intervals


@dataclass(frozen=True)
class PopulationActivity:
    name: str
    cells: int  # simulated cells (else the cells that spiked)
    spikes: int
    rate_hz: float  # mean over cells, over the whole run
    cv_isi: float  # median over cells with MIN_INTERVALS intervals or more (nan if none)
    cv_cells: int  # how many cells the CV is taken from
    active_fraction: np.ndarray  # per window: cells that spiked in it / cells
    longest_silence_ms: float  # longest interval without a spike of the population

    def line(self) -> str:
        active = self.active_fraction if self.active_fraction.size else np.zeros(1)
        return (f"{self.name:<10} {self.cells:>5} {self.spikes:>6} {self.rate_hz:>9.1f} "
                f"{self.cv_isi:>6.2f} {self.cv_cells:>8} {active.min():>6.2f} "
                f"{active.mean():>6.2f} {self.longest_silence_ms:>12.1f}")


def cv_of_intervals(times: np.ndarray, node_ids: np.ndarray) -> tuple[float, int]:
    """Median over cells of std/mean of their inter-spike intervals, and how many cells had
    enough intervals to count."""
    cvs = []
    for node in np.unique(node_ids):
        intervals = np.diff(np.sort(times[node_ids == node]))
        if intervals.size >= MIN_INTERVALS and intervals.mean() > 0:
            cvs.append(intervals.std(ddof=1) / intervals.mean())
    return (float(np.median(cvs)) if cvs else float("nan")), len(cvs)


def active_fractions(times, node_ids, cells: int, tstop: float, window_ms: float) -> np.ndarray:
    """For each whole window of `window_ms` in [0, tstop): the fraction of cells that spiked."""
    count = int(tstop // window_ms)
    window = np.floor(times / window_ms).astype(np.int64)
    keep = window < count
    active = np.zeros(count)
    for index in range(count):
        active[index] = np.unique(node_ids[keep][window[keep] == index]).size
    return active / max(cells, 1)


def longest_silence(times: np.ndarray, tstop: float) -> float:
    """The longest gap without a spike, counting from 0 and up to tstop."""
    edges = np.concatenate([[0.0], np.sort(times[times <= tstop]), [tstop]])
    return float(np.diff(edges).max())


def coincidence(first: np.ndarray, second: np.ndarray, window_ms: float) -> float:
    """The fraction of `first`'s spikes with a spike of `second` within `window_ms`
    (nan when either cell is silent)."""
    if not first.size or not second.size:
        return float("nan")
    second = np.sort(second)
    after = np.clip(np.searchsorted(second, first), 0, second.size - 1)
    before = np.clip(after - 1, 0, second.size - 1)
    nearest = np.minimum(np.abs(first - second[after]), np.abs(first - second[before]))
    return float((nearest <= window_ms).mean())


def pair_synchrony(population: PopulationSpikes, pairs: set[tuple[int, int]], cells: int,
                   window_ms: float = 3.0) -> tuple[float, float]:
    """Mean coincidence (both directions) of the cell pairs in `pairs` (say, coupled by gap
    junctions) and of every other pair of the population's `cells` cells: how much more
    the coupled cells fire together than chance and shared input make them."""
    trains = {n: population.times[population.node_ids == n] for n in range(cells)}
    coupled: list[float] = []
    others: list[float] = []
    for a in range(cells):
        for b in range(a + 1, cells):
            both = [coincidence(trains[a], trains[b], window_ms),
                    coincidence(trains[b], trains[a], window_ms)]
            (coupled if (a, b) in pairs else others).extend(both)
    return float(np.nanmean(coupled)), float(np.nanmean(others))


def electrical_pairs(edge_file: Path) -> dict[str, set[tuple[int, int]]]:
    """{node population: its unordered (low, high) pairs} of every electrical edge
    population of `edge_file` that joins a node population with itself."""
    import libsonata

    storage = libsonata.EdgeStorage(str(edge_file))
    found: dict[str, set[tuple[int, int]]] = {}
    for name in sorted(storage.population_names):
        edges = storage.open_population(name)
        if edges.source != edges.target:
            continue
        selection = edges.select_all()
        pairs = zip(edges.source_nodes(selection), edges.target_nodes(selection))
        found.setdefault(edges.source, set()).update(
            (int(min(a, b)), int(max(a, b))) for a, b in pairs if a != b)
    return found


def population_activity(population: PopulationSpikes, tstop: float,
                        window_ms: float = 100.0) -> PopulationActivity:
    times, ids = population.times, population.node_ids
    cells = population.cells or max(np.unique(ids).size, 1)
    cv, cv_cells = cv_of_intervals(times, ids)
    return PopulationActivity(
        population.name, cells, int(times.size), times.size / cells / (tstop / 1000.0), cv,
        cv_cells, active_fractions(times, ids, cells, tstop, window_ms),
        longest_silence(times, tstop))


def run_activity(directory: Path, tstop: float, window_ms: float = 100.0
                 ) -> list[PopulationActivity]:
    return [population_activity(p, tstop, window_ms)
            for p in read_spikes(check_output_dir(directory))]


def table(activities: list[PopulationActivity], window_ms: float) -> str:
    """One line per population; CV is the median over the cells counted in `CV cells`."""
    header = (f"{'population':<10} {'cells':>5} {'spikes':>6} {'rate [Hz]':>9} {'CV ISI':>6} "
              f"{'CV cells':>8} {'active per ' + format(window_ms, 'g') + ' ms':>13} "
              f"{'silence':>12}\n"
              f"{'':<10} {'':>5} {'':>6} {'per cell':>9} {'median':>6} {'':>8} "
              f"{'min':>6} {'mean':>6} {'longest [ms]':>12}")
    return "\n".join([header] + [a.line() for a in activities])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neurodamus.plots.activity",
        description="Print each population's rate, CV of inter-spike intervals, fraction of "
                    "cells active per window and longest silence, from a run's spikes.")
    parser.add_argument("output_dir", type=Path, metavar="OUTPUT_DIR")
    parser.add_argument("--tstop", type=float, required=True, metavar="MS",
                        help="the run's simulated time (run.tstop of its config)")
    parser.add_argument("--window", type=float, default=100.0, metavar="MS",
                        help="window of the active fractions (default 100 ms)")
    parser.add_argument("--gap-junctions", type=Path, metavar="EDGES_H5",
                        help="also print how often cells coupled by the electrical edges of "
                             "this file fire within 3 ms of each other, against other pairs")
    args = parser.parse_args(argv)
    if not (args.tstop > 0 and args.window > 0):
        print("neurodamus: error: --tstop and --window must be positive", file=sys.stderr)
        return 1
    try:
        activities = run_activity(args.output_dir, args.tstop, args.window)
        synchrony = gap_junction_lines(args.output_dir, args.gap_junctions, activities)
    except PlotError as error:
        print(f"neurodamus: error: {error}", file=sys.stderr)
        return 1
    print("\n".join([table(activities, args.window), *synchrony]))
    return 0


def gap_junction_lines(directory: Path, edge_file: Path | None,
                       activities: list[PopulationActivity]) -> list[str]:
    if edge_file is None:
        return []
    import libsonata

    try:
        pairs = electrical_pairs(edge_file)
    except (libsonata.SonataError, RuntimeError, OSError) as error:
        raise PlotError(f"file {edge_file}: cannot read electrical edges ({error})") from None
    cells = {a.name: a.cells for a in activities}
    lines = []
    for population in read_spikes(directory):
        if population.name in pairs and population.name in cells:
            coupled, others = pair_synchrony(population, pairs[population.name],
                                             cells[population.name])
            lines.append(f"{population.name}: spikes with a spike of the other cell within 3 ms:"
                         f" {coupled:.0%} in the {len(pairs[population.name])} pairs coupled by "
                         f"gap junctions, {others:.0%} in the other pairs")
    return lines


if __name__ == "__main__":
    sys.exit(main())
