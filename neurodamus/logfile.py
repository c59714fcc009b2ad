"""SONATA's `output.log_file`: rank 0's log (the lines it prints) and the error line that ends
a failed run, in a file others read after the job (as the reference simulator writes it).

The file is only known once the config is read, so the handler holds the lines logged before
(`install` at start-up), writes them when `open_log_file` gets the path, and then each line
as it comes. It is written in place (not under a temporary name): a log is most useful when a
run dies half-way. A file that cannot be written costs a warning, never the run.
"""

import contextlib
import logging
from pathlib import Path

FORMAT = "%(message)s"
_handler = None  # the installed LogFileHandler (rank 0 only)


class LogFileHandler(logging.Handler):
    """Buffers records until `open`, then appends each to the file; `discard` when the config
    names no log file."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter(FORMAT))
        self.pending: list[str] = []
        self.file = None
        self.path: Path | None = None
        self.done = False  # no file, or it failed: drop everything from now on

    def emit(self, record):
        try:
            self.write_line(self.format(record))
        except Exception:  # noqa: BLE001 - logging must not raise into the run
            self.handleError(record)

    def write_line(self, text: str):
        if self.done:
            return
        if self.file is None:
            self.pending.append(text)
            return
        try:
            self.file.write(text + "\n")
            self.file.flush()
        except OSError as error:
            self._give_up(error)

    def open(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - open for the run
        except OSError as error:
            self._give_up(error)
            return
        pending, self.pending = self.pending, []
        for text in pending:
            self.write_line(text)

    def discard(self):
        self.pending = []
        self.done = True

    def _give_up(self, error: OSError):
        self.done = True
        self.pending = []
        self._close_file()
        logging.getLogger("neurodamus").warning("output.log_file: cannot write %s (%s); "
                                                "logging to stdout only", self.path, error)

    def close(self):
        self._close_file()
        super().close()

    def _close_file(self):
        """Close the log file if open; a file that cannot even be closed is given up."""
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
        self.file = None


def install():
    """On rank 0, at start-up: keep the log lines for the log file from now on."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
    _handler = LogFileHandler()
    logging.getLogger().addHandler(_handler)


def open_log_file(output_dir: Path, log_file: str):
    """Once the settings are known: write the log to `log_file` (relative to output_dir,
    or absolute), or, when the config gives none, stop keeping lines."""
    if _handler is None:
        return
    if not log_file:
        _handler.discard()
        return
    path = Path(log_file)
    _handler.open(path if path.is_absolute() else Path(output_dir) / path)


def write_error(line: str):
    """The error line printed on stderr, also in the log file (when there is one)."""
    if _handler is not None:
        _handler.write_line(line)


def log_file_path() -> Path | None:
    return _handler.path if _handler is not None and not _handler.done else None
