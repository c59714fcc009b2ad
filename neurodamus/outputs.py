"""Where a run writes its outputs: a staging directory inside output_dir, committed at the end.

Every output (spikes, reports, offsets, distribution, run_summary.json, any later addition) is
written under `area.path(name)`, i.e. `output_dir/.neurodamus-partial-<run id>/name`, on the
same file system as its final place. Only when the whole run has succeeded does rank 0
`commit()`: the previous run_summary.json is removed first, every staged file is moved into
place with os.replace (atomic per file), and the new run_summary.json comes last, so a
summary always describes the files beside it. A failed run `discard()`s the staging
directory and leaves the previous outputs byte for byte as they were. A staging directory
left by a killed run (nobody could clean up) is hidden, named as partial, and removed by
the next run into the same directory.

Write errors (a full disk, a read-only directory) become one OutputError naming the final
file, through `writing(path)`.
"""

import errno
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from .errors import NeurodamusError

STAGING_PREFIX = ".neurodamus-partial-"
PROBE_NAME = ".neurodamus-write-test"


class OutputError(NeurodamusError):
    """An output that cannot be written: the directory is unusable or the disk is full."""


def new_run_id() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def final_name(path) -> Path:
    """The path a user knows: `path` with any staging directory taken out of it."""
    path = Path(path)
    return Path(*[part for part in path.parts if not part.startswith(STAGING_PREFIX)])


def _reason(error: Exception) -> str:
    code = getattr(error, "errno", None)
    if code == errno.ENOSPC or "No space left" in str(error) or "errno = 28" in str(error):
        return "no space left on device"
    if code == errno.EDQUOT:
        return "disk quota exceeded"
    return getattr(error, "strerror", None) or str(error).split("\n")[0]


@contextmanager
def writing(path):
    """Turn an OSError while writing `path` into an OutputError that names the final file."""
    try:
        yield
    except OutputError:
        raise
    except OSError as error:
        raise OutputError(f"{_reason(error)} writing {final_name(path)}") from None
    except RuntimeError as error:  # HDF5 failing to flush or close on a full disk
        if _reason(error) != "no space left on device":
            raise
        raise OutputError(f"{_reason(error)} writing {final_name(path)}") from None


class OutputArea:
    """The outputs of one run: staged in a hidden directory of output_dir until commit."""

    def __init__(self, output_dir: Path, run_id: str, config_file=None):
        self.output_dir = Path(output_dir)
        self.staging = self.output_dir / f"{STAGING_PREFIX}{run_id}"
        self.config_file = config_file
        self.committed: list[str] = []

    def path(self, name) -> Path:
        """Where to write the output `name` (relative to output_dir) during this run. An
        absolute name outside output_dir is returned as it is (written in place, unstaged)."""
        name = Path(name)
        if name.is_absolute():
            try:
                name = name.relative_to(self.output_dir)
            except ValueError:
                return name
        target = self.staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def prepare(self):
        """Rank 0, before any cell is built: output_dir exists and takes files; stale staging
        directories of killed runs go; this run's staging directory is made."""
        where = (f"output.output_dir {self.output_dir}"
                 + (f" (config {self.config_file})" if self.config_file else ""))
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise OutputError(f"{where} is a file, not a directory")
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            probe = self.output_dir / PROBE_NAME
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as error:
            raise OutputError(f"{where} is not writable: {_reason(error)}") from None
        for stale in self.output_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        with writing(self.staging):
            self.staging.mkdir()

    def staged_files(self) -> list[Path]:
        return sorted(p.relative_to(self.staging) for p in self.staging.rglob("*") if p.is_file())

    def commit(self, summary_name: str | None = None):
        """Rank 0, once everything is written: move the staged files into place, the summary
        last (the previous summary is removed before any file is replaced)."""
        files = self.staged_files()
        summary = Path(summary_name) if summary_name else None
        if summary in files:
            (self.output_dir / summary).unlink(missing_ok=True)
            files.remove(summary)
            files.append(summary)
        for name in files:
            target = self.output_dir / name
            with writing(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.staging / name, target)
        self.committed = [str(name) for name in files]
        shutil.rmtree(self.staging, ignore_errors=True)

    def discard(self):
        """A failed run: its staged files go, the previous outputs stay untouched."""
        shutil.rmtree(self.staging, ignore_errors=True)
