"""Reading a run's output directory for the figures: spikes, how many cells each population
simulated, and the soma traces of a frame report, all with libsonata."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import NeurodamusError

SUMMARY_FILE = "run_summary.json"  # written last by a completed run
DEFAULT_SPIKES_FILE = "out.h5"


class PlotError(NeurodamusError):
    """An output directory, spikes file or report that cannot be plotted."""


@dataclass(frozen=True)
class PopulationSpikes:
    name: str
    times: np.ndarray  # ms
    node_ids: np.ndarray
    cells: int | None  # cells simulated in this population (None when not recorded)


@dataclass(frozen=True)
class SomaTraces:
    population: str
    times: np.ndarray  # ms, one per frame
    node_ids: np.ndarray  # one per trace
    values: np.ndarray  # frames x traces
    units: str


def check_output_dir(directory: Path) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        raise PlotError(f"output directory {directory} not found")
    return directory


def spikes_file(directory: Path) -> Path:
    """The spikes file named by run_summary.json (the config's output.spikes_file), else out.h5."""
    summary = directory / SUMMARY_FILE
    name = DEFAULT_SPIKES_FILE
    if summary.exists():
        try:
            name = json.loads(summary.read_text()).get("spikes_file", name)
        except (json.JSONDecodeError, AttributeError) as error:
            raise PlotError(f"file {summary}: not a run summary ({error})") from None
    path = Path(name) if Path(name).is_absolute() else directory / name
    if not path.exists():  # the directory was moved since the run: look beside the summary
        path = directory / Path(name).name
    if not path.exists():
        raise PlotError(f"no spikes file in {directory} (looked for {Path(name).name}; "
                        "is this the output directory of a finished run?)")
    return path


def simulated_cells(directory: Path) -> dict[str, int]:
    """{population: cells simulated}, from populations_offset.dat and distribution.json;
    empty when either is missing (rates are then per spiking cell)."""
    offsets_file, distribution_file = (directory / "populations_offset.dat",
                                       directory / "distribution.json")
    if not (offsets_file.exists() and distribution_file.exists()):
        return {}
    offsets = []
    for line in offsets_file.read_text().splitlines():
        name, _, offset = line.partition("::")
        if offset.strip():
            offsets.append((int(offset), name.strip()))
    offsets.sort()
    ranks = json.loads(distribution_file.read_text())["gids_by_rank"]
    gids = np.concatenate([np.asarray(g, np.int64) for g in ranks] or [np.zeros(0, np.int64)])
    starts = np.array([o for o, _ in offsets])
    owner = np.searchsorted(starts, gids, side="right") - 1
    return {name: int((owner == i).sum()) for i, (_, name) in enumerate(offsets)
            if (owner == i).any()}


def read_spikes(directory: Path) -> list[PopulationSpikes]:
    """Every population of the spikes file, with its simulated cell count where known."""
    import libsonata

    path = spikes_file(directory)
    cells = simulated_cells(directory)
    try:
        reader = libsonata.SpikeReader(str(path))
        out = []
        for name in sorted(reader.get_population_names()):
            data = reader[name].get_dict()
            out.append(PopulationSpikes(name, np.asarray(data["timestamps"], np.float64),
                                        np.asarray(data["node_ids"], np.int64), cells.get(name)))
    except (libsonata.SonataError, RuntimeError, OSError) as error:
        raise PlotError(f"file {path}: cannot read spikes ({error})") from None
    return out


def read_soma_traces(directory: Path, report: str, max_traces: int) -> list[SomaTraces]:
    """The first element of each of the first `max_traces` nodes per population of the frame
    report `report` (REPORT.h5): the soma for compartment reports, whose elements start there."""
    import libsonata

    path = directory / f"{report}.h5"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.h5")
                       if p.stem != spikes_file_stem(directory))
        raise PlotError(f"report '{report}': no file {path} (reports here: "
                        f"{', '.join(known) or 'none'})")
    try:
        reader = libsonata.ElementReportReader(str(path))
        out = []
        for population in sorted(reader.get_population_names()):
            selected = reader[population]
            nodes = sorted(int(n) for n in selected.get_node_ids())[:max_traces]
            if not nodes:
                continue
            frames = selected.get(node_ids=nodes)
            ids = np.asarray(frames.ids, np.int64).reshape(-1, 2)
            data = np.asarray(frames.data, np.float64).reshape(len(frames.times), len(ids))
            first = [int(np.flatnonzero(ids[:, 0] == n)[0]) for n in nodes]
            out.append(SomaTraces(population, np.asarray(frames.times, np.float64),
                                  np.asarray(nodes), data[:, first], selected.data_units))
    except (libsonata.SonataError, RuntimeError, OSError) as error:
        raise PlotError(f"report '{report}', file {path}: cannot read ({error})") from None
    return out


def spikes_file_stem(directory: Path) -> str:
    try:
        return spikes_file(directory).stem
    except PlotError:
        return Path(DEFAULT_SPIKES_FILE).stem
