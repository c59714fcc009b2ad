"""Checking HDF5 files before libsonata opens them, so a bad file is one line of ours.

libsonata carries its own HDF5 library, which prints its whole error stack ("HDF5-DIAG")
on stderr, from every rank, before libsonata raises. h5py silences its HDF5 library, so a
file is first looked at here (exists, not empty, HDF5 signature, opens with h5py); the
reason comes back as a short phrase that the caller puts in its own error with the key.
Where libsonata still reads a file that could fail, `quiet_stderr` keeps its noise off
the terminal and returns it for the message.

Every SONATA HDF5 file the driver (or a test circuit) writes is stamped by `stamp_sonata`,
the one place the format's magic number and version are written.
"""

import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

# SONATA's root attributes: `magic` identifies the format, `version` its major and minor.
SONATA_MAGIC = 0x0A7A
SONATA_VERSION = (0, 1)
# The HDF5 superblock signature; it sits at offset 0, or 512, 1024, 2048... after a user block.
SIGNATURE = b"\x89HDF\r\n\x1a\n"
FIRST_USER_BLOCK = 512
_TRUNCATED = re.compile(r"(\w+) = (\d+)")


def _signature_offsets(size: int):
    yield 0
    offset = FIRST_USER_BLOCK
    while offset + len(SIGNATURE) <= size:
        yield offset
        offset *= 2


def _has_signature(path: Path, size: int) -> bool:
    with open(path, "rb") as stream:
        for offset in _signature_offsets(size):
            stream.seek(offset)
            if stream.read(len(SIGNATURE)) == SIGNATURE:
                return True
    return False


def _h5py_reason(error: Exception) -> str:
    """h5py's 'Unable to synchronously open file (truncated file: eof = ...)' -> the part
    in parentheses, which says why."""
    text = str(error)
    if "(" in text and text.endswith(")"):
        return text[text.index("(") + 1:-1]
    return text


def hdf5_problem(path) -> str | None:
    """Why `path` is not a readable HDF5 file ('is empty', 'is not an HDF5 file', ...),
    or None when it is one."""
    import h5py  # its HDF5 errors are silenced on import

    path = Path(path)
    if not path.is_file():
        return "not found"
    size = path.stat().st_size
    if size == 0:
        return "is empty"
    if not _has_signature(path, size):
        return "is not an HDF5 file"
    try:
        with h5py.File(path, "r"):
            pass
    except OSError as error:
        reason = _h5py_reason(error)
        sizes = dict(_TRUNCATED.findall(reason))
        if "truncated file" in reason and {"eof", "stored_eof"} <= sizes.keys():
            return f"is truncated ({sizes['eof']} of {sizes['stored_eof']} bytes)"
        return f"is not a readable HDF5 file ({reason})"
    return None


@contextlib.contextmanager
def quiet_stderr():
    """Send file descriptor 2 (where C libraries print) to a temporary file for the block;
    yields a list that holds the captured text once the block ends."""
    captured: list[str] = []
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            captured.append(capture.read().decode(errors="replace"))


def stamp_sonata(h5file) -> None:
    """The root attributes of a SONATA HDF5 file (an open h5py File): version and magic."""
    h5file.attrs["version"] = np.array(SONATA_VERSION, dtype=np.uint32)
    h5file.attrs["magic"] = np.uint32(SONATA_MAGIC)
