"""One frame report during the run: a run hook (see run.RunHook) that samples the report's
values at its frame times, keeps them in a bounded buffer flushed to this rank's part file,
and, once every rank has finished, has rank 0 assemble the final SONATA file.

Under CoreNEURON the values are recorded at every step (sampler.SteppedSampler) in windows
short enough that the recordings and the frame buffer together stay within the report
buffer (--report-buffer-size); the frames, and so the file, are the same.
"""

import shutil
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from ..errors import NeurodamusError
from ..outputs import writing
from .assemble import ReportHeader, assemble_report
from .buffer import FLOAT32_BYTES, FrameBuffer, PartFile, frames_per_buffer
from .sampler import FrameSampler, SteppedSampler, check_can_sample, coreneuron_window_steps
from .table import ElementTable

NO_LIMIT = 1 << 62  # steps: a window that no recording limits


def part_path(final: Path, rank: int) -> Path:
    return final.with_name(f".{final.name}.rank{rank}.part")


def snapshot_name(final: Path, rank: int) -> str:
    return f"{final.name}.rank{rank}.part"


class FrameReport:
    part: PartFile  # this rank's part file and its buffer: opened by before_run
    buffer: FrameBuffer

    def __init__(self, settings, table: ElementTable, path: Path, h, parallel, buffer_bytes: int,
                 coreneuron: bool = False):
        self.settings = settings
        self.table = table
        self.path = Path(path)
        self.h = h
        self.parallel = parallel
        self.buffer_bytes = int(buffer_bytes)
        self.combine = table.combiner()
        self.end_time = settings.end_time
        self.frame_count = settings.frame_count
        self.sampler: FrameSampler | SteppedSampler | None = None  # None: nothing to sample
        self.first_frame = 0  # a restored run records from here; the checkpoint has the rest
        self.earlier_parts: list[Path] = []
        self.write_error: OSError | None = None
        self.coreneuron = coreneuron
        self.window_steps: int | None = None  # under CoreNEURON, the same on every rank
        if coreneuron and table.refs:  # its recordings must exist before finitialize
            self.sampler = SteppedSampler(h, table.refs, settings.start_time, settings.dt,
                                          self._on_frame, name=self.name)

    @property
    def name(self) -> str:
        return self.settings.name

    def before_run(self, h):
        """Open the part file and schedule the frames. A run that stops early (tstop shortened
        to save a checkpoint) records, and declares in the file, the frames before it stops."""
        settings = self.settings
        if self.coreneuron:  # first, before anything that may fail on one rank
            self.window_steps = self._agreed_window_steps(h)
        check_can_sample(h, self.name, settings.start_time, resumed=bool(self.earlier_parts))
        self.end_time = min(settings.end_time, float(h.tstop))
        self.frame_count = replace(settings, end_time=self.end_time).frame_count
        # A run cut short (to save) also captures the frame due exactly at its end, which the
        # restored run cannot compute before stepping; the final file stops before it.
        self.capture_count = self.frame_count
        if (self.frame_count < settings.frame_count and abs(
                settings.start_time + self.frame_count * settings.dt - h.tstop) < 0.5 * h.dt):
            self.capture_count += 1
        with writing(self.path):  # named as the report the user asked for
            self.part = PartFile(part_path(self.path, self.parallel.rank), self.table,
                                 self.capture_count)
        capacity = frames_per_buffer(self.buffer_bytes, self.table.column_count,
                                     self.capture_count)
        if isinstance(self.sampler, SteppedSampler):  # the buffer takes a window's frames
            self.sampler.plan(self.capture_count, self.window_steps or NO_LIMIT)
            capacity = min(capacity, self.sampler.frames_per_window(h))
        self.buffer = FrameBuffer(self.table, capacity, self.part)
        self.buffer.first_frame = self.first_frame
        if self.sampler is None and self.table.refs:
            self.sampler = FrameSampler(h, self.table.refs, settings.start_time, settings.dt,
                                        self.capture_count, self._on_frame)
        if self.sampler is not None:
            self.sampler.arm(self.first_frame)

    def _agreed_window_steps(self, h) -> int | None:
        """Under CoreNEURON, the steps of a window such that its recordings and the buffer of
        its frames fit in the report buffer. Windows are collective, so every rank takes the
        shortest any rank needs (a collective); None: no rank records anything."""
        steps = NO_LIMIT
        if isinstance(self.sampler, SteppedSampler):
            steps = coreneuron_window_steps(self.buffer_bytes, len(self.table.refs),
                                            FLOAT32_BYTES * self.table.column_count,
                                            self.sampler.stride(h))
        steps = -self.parallel.allreduce_max(-steps)
        return None if steps == NO_LIMIT else steps

    def window(self, h):
        """Under CoreNEURON, the recordings' length (the same on every rank); under NEURON,
        no limit."""
        return None if self.window_steps is None else self.window_steps * h.dt

    def after_window(self, h):
        """Under CoreNEURON, the frames of the window just run (from its recordings)."""
        if self.sampler is not None:
            self.sampler.after_window(h)

    def _on_frame(self, values):
        """Called by NEURON during psolve (or after a CoreNEURON window), where an exception
        cannot travel: a write error (a full disk) is kept, recording stops, and after_run
        raises it."""
        if self.write_error is not None:
            return
        try:
            self.buffer.append(self.combine(values))
        except OSError as error:
            self.write_error = error

    def after_run(self, h):
        """Write what is left; a rank without values to sample (no element, or elements that
        sum nothing) has its frames already: zeros, the data's fill value."""
        if self.sampler is None:
            self.buffer.first_frame = self.capture_count
        else:
            self.sampler.catch_up()  # the frame due at the very end, if any
        with writing(self.path):
            if self.write_error is not None:
                with suppress(OSError, RuntimeError):  # HDF5 cannot flush either
                    self.part.close()
                raise self.write_error
            self.buffer.flush()
            self.part.file.attrs["frames_written"] = self.buffer.frames
            self.part.close()
        if self.buffer.frames != self.capture_count:
            raise NeurodamusError(f"report '{self.name}': {self.buffer.frames} of "
                                  f"{self.capture_count} frames were recorded")

    def snapshot(self, directory: Path) -> int:
        """For a checkpoint: this rank's frames so far, copied into `directory`; returns
        how many frames that is. Collective: a rank with nothing to sample agrees with the
        others (its columns, if any, are zeros)."""
        if self.sampler is not None:
            self.sampler.catch_up()
        self.buffer.flush()
        frames = self.parallel.allreduce_max(self.buffer.frames)
        self.part.file.attrs["frames_written"] = frames
        self.part.file.flush()
        Path(directory).mkdir(parents=True, exist_ok=True)
        snapshot = Path(directory) / snapshot_name(self.path, self.parallel.rank)
        shutil.copyfile(self.part.path, snapshot)
        self.part.file.attrs["frames_written"] = self.buffer.frames
        return frames

    def resume(self, frames: int, earlier_parts: list[Path]):
        """After a restore: frames [0, frames) come from the checkpoint's part files."""
        self.first_frame, self.earlier_parts = frames, list(earlier_parts)

    def finalize(self):
        """Collective: rank 0 assembles the final file once every part file is closed."""
        self.parallel.barrier()
        if self.parallel.is_root:
            parts = [part_path(self.path, rank) for rank in range(self.parallel.size)]
            header = ReportHeader(units=self.settings.unit, start=self.settings.start_time,
                                  end=self.end_time, dt=self.settings.dt,
                                  frame_count=self.frame_count)
            with writing(self.path):
                assemble_report(parts, self.path, header, self.buffer_bytes,
                                earlier=(self.earlier_parts, self.first_frame))
