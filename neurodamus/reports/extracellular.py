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

The potential (line-source approximation, Holt & Koch 1999) of every segment's membrane
current at each electrode: line_source.py, which says how.

The potential is summed over the rank's cells at each frame (one matrix-vector product of
the transfer resistances with the gathered currents), kept in a block, and at the end of
each solver window the blocks of every rank are summed onto rank 0 (MPI reduce), which
writes them to the file. Layout (bmtk's): `/ecp/data` float64 [frames x channels], units
mV; `/ecp/time` [start, stop, dt] ms; `/ecp/channel_id`. Frame k is the state at
start + k * dt, as in every frame report (bmtk records after each step, one step later than
its own time axis says). The file appears under its name only when complete.
"""

import os
import shutil
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

from ..errors import ConfigError, NeurodamusError
from ..hdf5_files import stamp_sonata
from ..outputs import writing
from .electrodes import load_electrode_settings
from .line_source import segment_geometry, transfer_resistances
from .recorder import snapshot_name
from .registry import ReportType, register
from .sampler import FrameSampler, SteppedSampler, check_can_sample, coreneuron_window_steps

FLOAT64_BYTES = 8


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
        return load_electrode_settings(raw, key, problems, base_dir)

    @classmethod
    def cell_elements(cls, cell, report):
        return None  # not a frame report: see run_hook

    @classmethod
    def run_hook(cls, report, cells, output_dir: Path, h, parallel, buffer_bytes: int,
                 coreneuron: bool = False):
        return ExtracellularRecorder(report, cells, Path(output_dir), h, parallel, buffer_bytes,
                                     coreneuron=coreneuron)


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
