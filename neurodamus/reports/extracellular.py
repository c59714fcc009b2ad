"""`extracellular`: the extracellular potential (ECP) at a set of electrodes, computed from
the membrane currents of the report's cells; bmtk's `module: extracellular` report.

Config: a `summation` report of `i_membrane` (the SONATA type that carries it through
libsonata, whose type enum has no such report) with the key `electrode_positions`, a CSV
file, whitespace separated, with the header `channel x_pos y_pos z_pos` (um, circuit
coordinates; `channel` optional: 0, 1, ... when absent). Optional keys:
`electrode_channels` (`all`, the default, or a list of channel ids), `minimum_distance`
(um, or `auto`: each segment's radius) and `contributions_dir` (relative to the output
directory: one file `<population>/<node_id>.h5` per cell, in the same layout, with that
cell's own contribution). The bmtk dialect writes this form.

Physics (line-source approximation, Holt & Koch 1999): the medium is infinite, homogeneous
and purely resistive with conductivity SIGMA. Each segment is a straight line from p0 to
p1 (its ends along the section's 3-D points, placed in the circuit as the e-field stimulus
places them: turned by the node's rotation about the soma centre, moved to the node's
position) carrying its membrane current I (NEURON's fast i_membrane_, nA) spread evenly.
At an electrode at perpendicular distance d from the segment's axis and at distance h
along it from the segment's middle, a segment of length L contributes

    V = I / (4 pi SIGMA L) * ln((h + L/2 + sqrt((h + L/2)^2 + d^2))
                                / (h - L/2 + sqrt((h - L/2)^2 + d^2)))

(h taken as |h|, the formula being even in h). With `minimum_distance` r, an electrode whose
projection comes closer than r to the segment (h - L/2 < r) sees d at least r, which keeps
an electrode inside a segment's radius finite. nA / (S/m * um) = mV: the file is in mV.

The potential is summed over the rank's cells at each frame (one matrix-vector product of
the transfer resistances with the gathered currents), kept in a block, and at the end of
each solver window the blocks of every rank are summed onto rank 0 (MPI reduce), which
writes them to the file. Layout (bmtk's): `/ecp/data` float64 [frames x channels], units
mV; `/ecp/time` [start, stop, dt] ms; `/ecp/channel_id`. Frame k is the state at
start + k * dt, as in every frame report (bmtk records after each step, one step later than
its own time axis says). The file appears under its name only when complete.
"""

import math
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import h5py
import numpy as np

from ..errors import CircuitError, ConfigError, NeurodamusError
from ..hdf5_files import stamp_sonata
from ..outputs import writing
from ..stimuli.efield import local_position
from ..values import is_finite_number
from .recorder import snapshot_name
from .registry import ReportType, register
from .sampler import FrameSampler, SteppedSampler, check_can_sample, coreneuron_window_steps

SIGMA = 0.3  # S/m: extracellular conductivity (bmtk's value)
COLUMNS = ("x_pos", "y_pos", "z_pos")
FLOAT64_BYTES = 8


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


def _chosen_channels(value, channels: np.ndarray, key: str, problems) -> np.ndarray | None:
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


@register("extracellular")
class ExtracellularReport(ReportType):
    carried_by = "summation"  # the SONATA type libsonata reads this report as
    marker_key = "electrode_positions"  # its key, which tells it from a summation
    uses_sections = False  # every segment of the cells contributes

    @classmethod
    def parse_variables(cls, tokens, catalogue):
        if tokens != ["i_membrane"]:
            return [], [("an extracellular report computes the potential from the membrane "
                         f"current: variable_name must be i_membrane, got {', '.join(tokens)}")]
        return [catalogue.segment_variable("i_membrane")], []

    @classmethod
    def default_unit(cls, variables) -> str:
        return "mV"

    @classmethod
    def load_extension(cls, raw: dict, key: str, problems, base_dir: Path):
        """ElectrodeSettings from the report's JSON, or None (problems added)."""
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
            chosen = _chosen_channels(raw.get("electrode_channels"), electrodes[0],
                                      f"{key}.electrode_channels", problems)
        if len(problems.items) > before or chosen is None or electrodes is None:
            return None
        channels, positions = electrodes
        return ElectrodeSettings(
            file=str(file), channels=tuple(int(c) for c in channels[chosen]),
            positions=tuple((float(x), float(y), float(z)) for x, y, z in positions[chosen]),
            minimum_distance=minimum if minimum in (None, "auto") else float(minimum),
            contributions_dir=contributions)

    @classmethod
    def cell_elements(cls, cell, report):
        return None  # not a frame report: see run_hook

    @classmethod
    def run_hook(cls, report, cells, output_dir: Path, h, parallel, buffer_bytes: int,
                 coreneuron: bool = False):
        return ExtracellularRecorder(report, cells, Path(output_dir), h, parallel, buffer_bytes,
                                     coreneuron=coreneuron)


# -- geometry ----------------------------------------------------------------------------

def _sections(cell) -> list:
    """All the cell's sections: its template's `all` list where there is one (as the e-field
    stimulus takes them), else the cell's sections."""
    every = getattr(getattr(cell, "hoc", None), "all", None)
    return list(every) if every is not None else list(cell.sections)


def segment_geometry(cell):
    """(segments, p0, p1, diameters) of every segment of a cell: p0 and p1 [n x 3] are each
    segment's ends in circuit coordinates (um), along the section's 3-D points."""
    segments, starts, ends, diameters = [], [], [], []
    for section in _sections(cell):
        count = int(section.n3d())
        if count == 0:
            raise CircuitError(f"section {section.name()} of node {cell.node_id} has no 3-D "
                               "points, which the extracellular report needs",
                               population=cell.population)
        arc = np.array([section.arc3d(i) for i in range(count)])
        points = np.array([[section.x3d(i), section.y3d(i), section.z3d(i)]
                           for i in range(count)])
        nseg = int(section.nseg)
        where = np.linspace(0.0, 1.0, nseg + 1) * arc[-1]
        at = np.column_stack([np.interp(where, arc, points[:, axis]) for axis in range(3)])
        starts.append(at[:-1])
        ends.append(at[1:])
        for segment in section:
            segments.append(segment)
            diameters.append(float(segment.diam))
    rotation = np.asarray(getattr(cell, "rotation", np.eye(3)), float)
    position = np.asarray(getattr(cell, "position", np.zeros(3)), float)
    centre = local_position(cell.soma(0.5))

    def place(local):
        return (np.concatenate(local) - centre) @ rotation.T + position

    return segments, place(starts), place(ends), np.asarray(diameters)


def transfer_resistances(electrodes, p0, p1, minimum=None) -> np.ndarray:
    """[electrodes x segments] mV per nA: the line-source potential at each electrode of a
    unit current in each segment (see the module docstring). `minimum`: None, or the
    minimum distance (um) per segment or for all."""
    electrodes, p0, p1 = (np.asarray(a, float).reshape(-1, 3) for a in (electrodes, p0, p1))
    axis = p1 - p0
    length = np.linalg.norm(axis, axis=1)
    line = length > 1e-9 * (1.0 + np.abs(p0).max(initial=0.0))
    direction = np.zeros_like(axis)
    direction[line] = axis[line] / length[line, None]
    relative = electrodes[:, None, :] - (p0 + p1)[None, :, :] / 2  # [m, n, 3]
    squared = np.einsum("mnk,mnk->mn", relative, relative)
    along = np.abs(np.einsum("mnk,nk->mn", relative, direction))
    perpendicular = np.maximum(squared - along ** 2, 0.0)
    half = length[None, :] / 2
    upper, lower = along + half, along - half
    if minimum is not None:
        floor = np.broadcast_to(np.asarray(minimum, float), length.shape)[None, :]
        near = lower < floor
        perpendicular = np.where(near, np.maximum(perpendicular, floor ** 2), perpendicular)
        squared = np.where(near, np.maximum(squared, floor ** 2), squared)
    upper_root = np.sqrt(upper ** 2 + perpendicular)
    lower_root = np.sqrt(lower ** 2 + perpendicular)
    with np.errstate(divide="ignore", invalid="ignore"):
        numerator = upper + upper_root
        # Beside the segment (lower < 0) lower + lower_root cancels: use its conjugate form.
        denominator = np.where(lower >= 0, lower + lower_root,
                               perpendicular / (lower_root - lower))
        values = np.where(line[None, :], np.log(numerator / denominator)
                          / np.where(line, length, 1.0)[None, :], 1.0 / np.sqrt(squared))
    return values / (4 * math.pi * SIGMA)


# -- the run hook ------------------------------------------------------------------------

class ExtracellularRecorder:
    """Run hook (see run.RunHook) of one extracellular report on one rank."""

    sampler: FrameSampler | SteppedSampler  # made by before_run (under CoreNEURON, here)

    def __init__(self, settings, cells, output_dir: Path, h, parallel, buffer_bytes: int,
                 coreneuron: bool = False):
        self.settings = settings
        self.electrodes = settings.extension
        self.path = Path(output_dir) / settings.file_name
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        self.h, self.parallel = h, parallel
        self.buffer_bytes = int(buffer_bytes)
        contributions = self.electrodes.contributions_dir
        self.contributions_dir = Path(output_dir) / contributions if contributions else None
        self.refs: list = []  # NEURON pointers to each segment's i_membrane_
        self.cells: list[tuple[str, int, slice]] = []  # population, node id, columns
        blocks = []
        positions = np.asarray(self.electrodes.positions, float)
        for cell in sorted(cells, key=lambda c: (c.population, c.node_id)):
            if not getattr(cell, "sections", None):
                continue  # a point neuron has no membrane to speak of
            segments, p0, p1, diameters = segment_geometry(cell)
            minimum = self.electrodes.minimum_distance
            resistances = transfer_resistances(
                positions, p0, p1, diameters / 2 if minimum == "auto" else minimum)
            if not np.all(np.isfinite(resistances)):
                channel = self.electrodes.channels[int(np.argwhere(
                    ~np.isfinite(resistances))[0][0])]
                raise ConfigError(f"electrode channel {channel} lies on the axis of a segment of "
                                  f"node {cell.node_id} of population '{cell.population}': give "
                                  "a minimum_distance",
                                  key=f"reports.{settings.name}.minimum_distance")
            first = len(self.refs)
            self.refs.extend(segment._ref_i_membrane_ for segment in segments)
            self.cells.append((cell.population, cell.node_id, slice(first, len(self.refs))))
            blocks.append(resistances)
        channels = len(self.electrodes.channels)
        self.resistances = np.concatenate(blocks, axis=1) if blocks else np.zeros((channels, 0))
        if not self.refs:  # a rank without cells still takes (zero) frames with the others
            self.refs = [h._ref_t]
            self.resistances = np.zeros((channels, 1))
        self.file: h5py.File | None = None  # rank 0's file
        self.block = np.zeros((0, channels))  # frames not yet written, allocated by before_run
        self.cell_blocks: np.ndarray | None = None
        self.filled = self.written = 0
        self.first_frame = 0  # a restored run records from here; the checkpoint has the rest
        self.earlier: Path | None = None
        self.frame_count = self.capture_count = settings.frame_count
        self.end_time = settings.end_time
        if coreneuron:  # its recordings must exist before finitialize
            self.sampler = SteppedSampler(h, self.refs, settings.start_time, settings.dt,
                                          self._on_frame, name=self.name)

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def channel_count(self) -> int:
        return len(self.electrodes.channels)

    def _contribution_path(self, population: str, node_id: int, partial: bool) -> Path:
        name = f".{node_id}.h5.partial" if partial else f"{node_id}.h5"
        assert self.contributions_dir is not None  # asked for only when contributions are kept
        return self.contributions_dir / population / name

    def before_run(self, h):
        settings = self.settings
        check_can_sample(h, self.name, settings.start_time, resumed=self.earlier is not None)
        self.end_time = min(settings.end_time, float(h.tstop))
        self.frame_count = replace(settings, end_time=self.end_time).frame_count
        self.capture_count = self.frame_count  # + the frame at a shortened run's end, as
        if (self.frame_count < settings.frame_count and abs(  # recorder.FrameReport does
                settings.start_time + self.frame_count * settings.dt - h.tstop) < 0.5 * h.dt):
            self.capture_count += 1
        cells = len(self.cells) if self.contributions_dir else 0
        values = self.channel_count * (1 + cells)  # per frame, float64
        capacity = max(1, min(self.capture_count, self.buffer_bytes // (FLOAT64_BYTES * values)))
        stepped = getattr(self, "sampler", None)
        if isinstance(stepped, SteppedSampler):  # the recordings of a window, and the block
            steps = coreneuron_window_steps(  # its frames: within the buffer
                self.buffer_bytes, len(self.refs), FLOAT64_BYTES * values, stepped.stride(h))
            stepped.plan(self.capture_count, -self.parallel.allreduce_max(-steps))
            capacity = min(capacity, stepped.frames_per_window(h))
        # Windows are collective (each ends in a reduce): the shortest block of any rank.
        capacity = -self.parallel.allreduce_max(-capacity)
        self.block = np.zeros((capacity, self.channel_count))
        if self.contributions_dir:
            self.cell_blocks = np.zeros((cells, capacity, self.channel_count))
            for population, node_id, _ in self.cells:
                self._create(self._contribution_path(population, node_id, True))
        self.written = self.first_frame
        if self.parallel.is_root:
            if self.earlier is not None:
                shutil.copyfile(self.earlier, self.partial)
                self.file = h5py.File(self.partial, "r+")
                self.file["ecp/data"].resize(self.capture_count, axis=0)
                self.file["ecp/time"][...] = [settings.start_time, self.end_time, settings.dt]
            else:
                self.file = self._create(self.partial, keep_open=True)
        if not isinstance(stepped, SteppedSampler):
            self.sampler = FrameSampler(h, self.refs, settings.start_time, settings.dt,
                                        self.capture_count, self._on_frame)
        self.sampler.arm(self.first_frame)

    def _create(self, path: Path, keep_open: bool = False):
        path.parent.mkdir(parents=True, exist_ok=True)
        out = h5py.File(path, "w")
        stamp_sonata(out)
        data = out.create_dataset("ecp/data", shape=(self.capture_count, self.channel_count),
                                  maxshape=(None, self.channel_count), dtype=np.float64,
                                  chunks=(max(1, min(self.capture_count, 1024)),
                                          self.channel_count))
        data.attrs["units"] = self.settings.unit
        time = out.create_dataset("ecp/time", data=np.array(
            [self.settings.start_time, self.end_time, self.settings.dt], np.float64))
        time.attrs["units"] = "ms"
        out.create_dataset("ecp/channel_id", data=np.asarray(self.electrodes.channels, np.int64))
        out.attrs["frames_written"] = self.first_frame
        if keep_open:
            return out
        out.close()
        return None

    def window(self, h):
        """The solver stops before the block is full (it grows if a window's edges bring
        one frame more), and under CoreNEURON when the recordings are."""
        block = max(1, self.block.shape[0] - 1) * self.settings.dt
        recordings = self.sampler.window(h)
        return block if recordings is None else min(block, recordings)

    def _on_frame(self, values):
        if self.filled == self.block.shape[0]:
            self.block = np.concatenate([self.block, np.zeros_like(self.block)])
            if self.cell_blocks is not None:
                self.cell_blocks = np.concatenate(
                    [self.cell_blocks, np.zeros_like(self.cell_blocks)], axis=1)
        if self.cell_blocks is None:
            self.block[self.filled] = self.resistances @ values
        else:
            for index, (_, _, columns) in enumerate(self.cells):
                contribution = self.resistances[:, columns] @ values[columns]
                self.cell_blocks[index, self.filled] = contribution
            self.block[self.filled] = self.cell_blocks[:, self.filled].sum(axis=0)
        self.filled += 1

    def after_window(self, h):
        self.sampler.after_window(h)  # under CoreNEURON, the window's frames
        with writing(self.path):
            self._flush()

    def _flush(self):
        """Collective: the frames of the block, summed over the ranks onto rank 0."""
        counts = set(self.parallel.allgather(self.filled))
        if len(counts) != 1:
            raise RuntimeError(f"report '{self.name}': ranks took different frame counts {counts}")
        count = self.filled
        if count == 0:
            return
        local = np.ascontiguousarray(self.block[:count])
        total = np.empty_like(local) if self.parallel.is_root else None
        self.parallel.comm.Reduce(local, total, root=0)  # mpi4py's default operation: sum
        rows = slice(self.written, self.written + count)
        if self.file is not None:  # rank 0
            self.file["ecp/data"][rows] = total
            self.file.attrs["frames_written"] = rows.stop
        if self.cell_blocks is not None:
            for index, (population, node_id, _) in enumerate(self.cells):
                with h5py.File(self._contribution_path(population, node_id, True), "r+") as out:
                    out["ecp/data"][rows] = self.cell_blocks[index, :count]
                    out.attrs["frames_written"] = rows.stop
        self.written = rows.stop
        self.filled = 0

    def after_run(self, h):
        self.sampler.catch_up()  # the frame due at the very end, if any
        with writing(self.path):
            self._flush()
        if self.written != self.capture_count:
            raise NeurodamusError(f"report '{self.name}': {self.written} of "
                                  f"{self.capture_count} frames were recorded")

    def snapshot(self, directory: Path) -> int:
        """For a checkpoint: the frames so far (rank 0's file holds them all, whatever the
        rank count); returns how many. Collective."""
        if self.contributions_dir:
            raise NeurodamusError(f"report '{self.name}': a checkpoint cannot keep the cells' "
                                  "contributions (contributions_dir) yet")
        self.sampler.catch_up()
        self._flush()
        if self.file is not None:  # rank 0
            self.file.flush()
            Path(directory).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.partial, Path(directory) / snapshot_name(self.path, 0))
        return self.written

    def resume(self, frames: int, earlier_parts: list[Path]):
        """After a restore: frames [0, frames) come from the checkpoint's copy."""
        if self.contributions_dir:
            raise NeurodamusError(f"report '{self.name}': a run restored from a checkpoint "
                                  "cannot write the cells' contributions (contributions_dir)")
        self.first_frame, self.earlier = frames, Path(earlier_parts[0])

    def finalize(self):
        """Trim to the frames of the run, close, and give the files their names."""
        with writing(self.path):
            self._finalize()

    def _finalize(self):
        if self.parallel.is_root and self.file is not None:
            self.file["ecp/data"].resize(self.frame_count, axis=0)
            del self.file.attrs["frames_written"]
            self.file.close()
            self.file = None
            os.replace(self.partial, self.path)
        if self.contributions_dir:
            for population, node_id, _ in self.cells:
                partial = self._contribution_path(population, node_id, True)
                with h5py.File(partial, "r+") as out:
                    out["ecp/data"].resize(self.frame_count, axis=0)
                    del out.attrs["frames_written"]
                os.replace(partial, self._contribution_path(population, node_id, False))
