"""One frame report during the run: a run hook (see run.RunHook) that samples the report's
values at its frame times, keeps them in a bounded buffer flushed to this rank's part file,
and, once every rank has finished, has rank 0 assemble the final SONATA file."""

from dataclasses import replace
from pathlib import Path

from ..errors import NeurodamusError
from .assemble import ReportHeader, assemble_report
from .buffer import FrameBuffer, PartFile, frames_per_buffer
from .sampler import FrameSampler, check_can_sample
from .table import ElementTable


def part_path(final: Path, rank: int) -> Path:
    return final.with_name(f".{final.name}.rank{rank}.part")


class FrameReport:
    def __init__(self, settings, table: ElementTable, path: Path, h, parallel, buffer_bytes: int):
        self.settings = settings
        self.table = table
        self.path = Path(path)
        self.h = h
        self.parallel = parallel
        self.buffer_bytes = int(buffer_bytes)
        self.combine = table.combiner()
        self.end_time = settings.end_time
        self.frame_count = settings.frame_count
        self.sampler = self.part = self.buffer = None

    @property
    def name(self) -> str:
        return self.settings.name

    def before_run(self, h):
        """Open the part file and schedule the frames. A run that stops early (tstop shortened
        to save a checkpoint) records, and declares in the file, the frames before it stops."""
        settings = self.settings
        check_can_sample(h, self.name, settings.start_time)
        self.end_time = min(settings.end_time, float(h.tstop))
        self.frame_count = replace(settings, end_time=self.end_time).frame_count
        self.part = PartFile(part_path(self.path, self.parallel.rank), self.table, self.frame_count)
        capacity = frames_per_buffer(self.buffer_bytes, self.table.column_count, self.frame_count)
        self.buffer = FrameBuffer(self.table, capacity, self.part)
        if self.table.refs:
            self.sampler = FrameSampler(h, self.table.refs, settings.start_time, settings.dt,
                                        self.frame_count, self._on_frame)
            self.sampler.arm()

    def _on_frame(self, values):
        self.buffer.append(self.combine(values))

    def after_run(self, h):
        """Write what is left; a rank without values to sample (no element, or elements that
        sum nothing) has its frames already: zeros, the data's fill value."""
        if self.sampler is None:
            self.buffer.first_frame = self.frame_count
        self.buffer.flush()
        self.part.file.attrs["frames_written"] = self.buffer.frames
        self.part.close()
        if self.buffer.frames != self.frame_count:
            raise NeurodamusError(f"report '{self.name}': {self.buffer.frames} of "
                                  f"{self.frame_count} frames were recorded")

    def finalize(self):
        """Collective: rank 0 assembles the final file once every part file is closed."""
        self.parallel.barrier()
        if self.parallel.is_root:
            parts = [part_path(self.path, rank) for rank in range(self.parallel.size)]
            header = ReportHeader(units=self.settings.unit, start=self.settings.start_time,
                                  end=self.end_time, dt=self.settings.dt,
                                  frame_count=self.frame_count)
            assemble_report(parts, self.path, header, self.buffer_bytes)
