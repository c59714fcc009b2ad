"""Bounded memory during the run: frames collect in a fixed-size buffer that is written to
this rank's part file whenever it is full, so memory does not grow with simulated time.

Part file (one per rank and report, hidden name next to the final file), per population:
`<pop>/data` float32 [frame_count x local elements] (contiguous, so each flush writes one
contiguous block), `<pop>/node_ids`, `<pop>/element_counts`, `<pop>/element_ids`; the root
attribute `frames_written` says how much of the data is real.
"""

from pathlib import Path

import h5py
import numpy as np

from .table import ElementTable

FLOAT32_BYTES = 4


def frames_per_buffer(buffer_bytes: int, columns: int, frame_count: int) -> int:
    """How many frames of `columns` float32 values fit in the buffer (at least one)."""
    fit = int(buffer_bytes) // max(1, columns * FLOAT32_BYTES)
    return max(1, min(frame_count, fit))


class PartFile:
    """This rank's columns of one report, written block by block during the run."""

    def __init__(self, path: Path, table: ElementTable, frame_count: int):
        self.path = Path(path)
        self.file = h5py.File(self.path, "w")
        self.file.attrs["frame_count"] = frame_count
        self.file.attrs["frames_written"] = 0
        self.datasets = []
        for population in table.populations:
            group = self.file.create_group(population.name)
            group.create_dataset("node_ids", data=population.node_ids)
            group.create_dataset("element_counts", data=population.element_counts)
            group.create_dataset("element_ids", data=population.element_ids)
            self.datasets.append(group.create_dataset(
                "data", shape=(frame_count, population.element_ids.size), dtype=np.float32))

    def write(self, first_frame: int, blocks: list[np.ndarray]):
        """One [frames x columns] block per population, in table order, from `first_frame`."""
        last = first_frame
        for data, block in zip(self.datasets, blocks):
            last = first_frame + block.shape[0]
            data[first_frame:last, :] = block
        self.file.attrs["frames_written"] = last

    def close(self):
        if self.file:
            self.file.close()
            self.file = None


class FrameBuffer:
    """Frames in float32, one contiguous block per population (so each flush writes without
    copying), until `capacity` frames are held; then they go to the part file."""

    def __init__(self, table: ElementTable, capacity: int, part: PartFile):
        self.columns = [population.columns for population in table.populations]
        self.blocks = [np.empty((capacity, population.element_ids.size), np.float32)
                       for population in table.populations]
        self.capacity = capacity
        self.part = part
        self.filled = 0
        self.first_frame = 0

    def append(self, frame: np.ndarray):
        for block, columns in zip(self.blocks, self.columns):
            block[self.filled] = frame[columns]
        self.filled += 1
        if self.filled == self.capacity:
            self.flush()

    def flush(self):
        if self.filled:
            self.part.write(self.first_frame, [block[:self.filled] for block in self.blocks])
            self.first_frame += self.filled
            self.filled = 0

    @property
    def frames(self) -> int:
        return self.first_frame + self.filled
