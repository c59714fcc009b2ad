"""The final report file, assembled on one rank from every rank's part file.

Strict SONATA frame report layout, one group per population:
  /report/<pop>/data                    float32 [frames x elements], attribute `units`
  /report/<pop>/mapping/node_ids        uint64 [N], ascending (attribute `sorted`)
  /report/<pop>/mapping/index_pointers  uint64 [N + 1]; node i owns data[:, ip[i]:ip[i+1]]
  /report/<pop>/mapping/element_ids     uint32 [elements]
  /report/<pop>/mapping/time            float64 [start, end, dt], attribute `units` = ms
Nodes are sorted by node id whatever rank recorded them, so any number of ranks writes the
same file. Data is copied a block of frames at a time (about one report buffer), so memory
stays bounded; the file is written under a temporary name and renamed when complete.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..hdf5_files import stamp_sonata
from .buffer import frames_per_buffer


@dataclass(frozen=True)
class ReportHeader:
    """What the final file says about the report besides its data."""

    units: str
    start: float
    end: float
    dt: float
    frame_count: int


@dataclass
class _Share:
    """One rank's share of one population: where its columns go in the final file."""

    rank: int
    destination: np.ndarray  # final column of each of the rank's columns


def _mapping(parts, population: str):
    """Sorted nodes, their elements and index pointers, and each rank's column destinations."""
    node_ids, counts, element_ids, owners = [], [], [], []
    for rank, part in enumerate(parts):
        if population not in part:
            continue
        group = part[population]
        ids = np.asarray(group["node_ids"], np.uint64)
        node_counts = np.asarray(group["element_counts"], np.int64)
        elements = np.asarray(group["element_ids"], np.uint32)
        starts = np.concatenate([[0], np.cumsum(node_counts)[:-1]]).astype(np.int64)
        for i in range(ids.size):
            node_ids.append(int(ids[i]))
            counts.append(int(node_counts[i]))
            element_ids.append(elements[starts[i]:starts[i] + node_counts[i]])
            owners.append((rank, int(starts[i])))
    order = sorted(range(len(node_ids)), key=lambda i: node_ids[i])
    if len(set(node_ids)) != len(node_ids):
        raise RuntimeError(f"population '{population}': a node was recorded on two ranks")
    pointers = np.zeros(len(order) + 1, np.uint64)
    pointers[1:] = np.cumsum([counts[i] for i in order])
    destinations: dict[int, list[tuple[int, int, int]]] = {}  # rank -> (start, pointer, count)
    for position, i in enumerate(order):
        rank, start = owners[i]
        destinations.setdefault(rank, []).append(
            (start, int(pointers[position]), counts[i]))
    shares = []
    for rank, pieces in destinations.items():
        size = sum(count for _, _, count in pieces)
        destination = np.empty(size, np.int64)
        for start, final, count in pieces:
            destination[start:start + count] = np.arange(final, final + count)
        shares.append(_Share(rank, destination))
    sorted_ids = np.array([node_ids[i] for i in order], np.uint64)
    elements = (np.concatenate([element_ids[i] for i in order]) if order
                else np.zeros(0, np.uint32)).astype(np.uint32)
    return sorted_ids, pointers, elements, shares


def _copy_data(parts, population: str, shares, target, frame_count: int, buffer_bytes: int,
               first: int = 0):
    """Frames [first, frame_count) of the parts into the final columns."""
    columns = target.shape[1]
    # The block plus the piece read from one part file stay within one buffer.
    step = frames_per_buffer(buffer_bytes // 2, columns, frame_count)
    for start in range(first, frame_count, step):
        last = min(frame_count, start + step)
        block = np.empty((last - start, columns), np.float32)
        for share in shares:
            block[:, share.destination] = parts[share.rank][population]["data"][start:last, :]
        target[start:last, :] = block


def _write_final(parts, path: Path, header: ReportHeader, buffer_bytes: int, earlier=(), first=0):
    """`earlier` parts (from a checkpoint, any rank count) hold frames [0, first); `parts`
    hold [first, frame_count)."""
    for rank, part in enumerate(parts):
        written = int(part.attrs["frames_written"])
        if written < header.frame_count:  # a part may hold one more (see recorder)
            raise RuntimeError(f"rank {rank} wrote {written} of {header.frame_count} frames")
    for rank, part in enumerate(earlier):
        if int(part.attrs["frames_written"]) < first:
            raise RuntimeError(f"checkpoint part {rank} holds fewer than {first} frames")
    populations = sorted({name for part in parts for name in part.keys()})
    with h5py.File(path, "w") as out:
        stamp_sonata(out)
        for population in populations:
            node_ids, pointers, element_ids, shares = _mapping(parts, population)
            group = out.create_group(f"report/{population}")
            data = group.create_dataset("data", shape=(header.frame_count, element_ids.size),
                                        dtype=np.float32)
            data.attrs["units"] = header.units
            mapping = group.create_group("mapping")
            mapping.create_dataset("node_ids", data=node_ids).attrs["sorted"] = np.uint8(1)
            mapping.create_dataset("index_pointers", data=pointers)
            mapping.create_dataset("element_ids", data=element_ids)
            time = mapping.create_dataset(
                "time", data=np.array([header.start, header.end, header.dt], np.float64))
            time.attrs["units"] = "ms"
            if first:
                earlier_ids, _, earlier_elements, earlier_shares = _mapping(earlier, population)
                if not (np.array_equal(earlier_ids, node_ids)
                        and np.array_equal(earlier_elements, element_ids)):
                    raise RuntimeError(f"population '{population}': the checkpoint's report "
                                       "records other elements")
                _copy_data(earlier, population, earlier_shares, data, first, buffer_bytes)
            _copy_data(parts, population, shares, data, header.frame_count, buffer_bytes,
                       first=first)


def assemble_report(part_paths: list[Path], path: Path, header: ReportHeader, buffer_bytes: int,
                    earlier=((), 0)):
    """Write the final report from the part files (in rank order), then remove them.
    `earlier` = (part files of a checkpoint, frames they hold) for a restored run."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    earlier_paths, first = earlier
    parts = [h5py.File(p, "r") for p in part_paths]
    earlier_parts = [h5py.File(p, "r") for p in earlier_paths] if first else []
    try:
        _write_final(parts, partial, header, buffer_bytes, earlier_parts, first)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        for part in parts + earlier_parts:
            part.close()
    os.replace(partial, path)
    for part_path in part_paths:
        Path(part_path).unlink()
