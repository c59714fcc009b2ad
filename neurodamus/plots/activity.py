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
    args = parser.parse_args(argv)
    if not (args.tstop > 0 and args.window > 0):
        print("neurodamus: error: --tstop and --window must be positive", file=sys.stderr)
        return 1
    try:
        activities = run_activity(args.output_dir, args.tstop, args.window)
    except PlotError as error:
        print(f"neurodamus: error: {error}", file=sys.stderr)
        return 1
    print(table(activities, args.window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
