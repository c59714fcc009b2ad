"""Calling hoc code that user files define (templates, morphology readers) so that a hoc error
becomes one CircuitError instead of an MPI abort.

Under MPI, NEURON aborts every rank on a hoc error unless abort-on-error is off; with it off,
the error comes back to Python as a RuntimeError while NEURON prints the real reason (e.g.
"CaDynamics_DC0 is not a MECHANISM ... in cADpyr_L2TPC.hoc near line 5") on the C stderr.
That text is captured here and folded into the error message, with what a morphology
reader printed on stdout (Import3d's "could not parse" lines), so no rank prints its own.
"""

import ctypes
import functools
import os
import re
import sys
import tempfile

from ..errors import CircuitError

# Under MPI NEURON starts each line with the rank number.
_REASON = re.compile(r"^(?:\d+ )?NEURON: (?!hoc_Load_file)(.*)$", re.M)
_WHERE = re.compile(r"^(?:\d+ )? in (\S+) near line (\d+)$", re.M)
# Import3d's readers print "error <file> line <n>: <what>" (with hoc's printf, on stdout).
_PARSE_ERROR = re.compile(r"^(?:\d+ )?error (\S+) line (\d+): (.*)$", re.M)


def hoc_text(value) -> str | bytes:
    """A path or name as hoc takes it: NEURON encodes a Python str argument as ASCII and
    fails on any other letter ("python string arg cannot decode into c_str"), but passes
    bytes through. Non-ASCII text goes as the file system's bytes (UTF-8), which hoc's
    strings and fopen keep as they are."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    return text if text.isascii() else os.fsencode(text)


@functools.cache
def _c_library():
    return ctypes.CDLL(None)


def _flush_c_stdio():
    """hoc's printf is buffered by the C library: flush it before fd 1 is switched back."""
    _c_library().fflush(None)


def _summary(captured: str, printed: str = "", what: str = "") -> str:
    """'reason (file near line N)' from NEURON's error printout; a morphology reader's own
    complaint about the file (on stdout) comes first, since it says what is wrong."""
    parse_errors = _PARSE_ERROR.findall(printed)
    if parse_errors:
        file, line, text = parse_errors[0]
        more = f" (and {len(parse_errors) - 1} more lines)" if len(parse_errors) > 1 else ""
        where = f"line {line}" if file in what else f"{file} line {line}"
        return f"{where}: {' '.join(text.split())}{more}"
    reasons = _REASON.findall(captured)
    places = _WHERE.findall(captured)
    if not reasons:
        return " ".join(captured.split())[-300:] or "hoc error"
    text = reasons[0].strip()
    if places:
        text += f" (in {places[0][0]} near line {places[0][1]})"
    return text


_kept: list = []  # (stderr, stdout) capture files not in use


def _capture_files():
    """Two files (stderr, stdout), kept open between calls: opening new ones for every
    template call cost more than the call of a replayed cell."""
    if _kept:
        return _kept.pop()
    return tempfile.TemporaryFile(mode="w+b"), tempfile.TemporaryFile(mode="w+b")


def _drain(capture) -> str:
    capture.seek(0)
    text = capture.read().decode(errors="replace")
    capture.seek(0)
    capture.truncate()
    return text


def call_hoc(pc, what: str, function, *args, population=None, file=None):
    """`function(*args)`; a hoc error raises CircuitError('<what>: <NEURON's reason>')."""
    previous = pc.mpiabort_on_error(0)
    sys.stderr.flush()
    sys.stdout.flush()
    files = _capture_files()
    capture, capture_out = files
    saved, saved_out = os.dup(2), os.dup(1)
    os.dup2(capture.fileno(), 2)
    os.dup2(capture_out.fileno(), 1)
    failure = None
    try:
        result = function(*args)
    except RuntimeError as error:
        failure = error
    finally:
        _flush_c_stdio()
        os.dup2(saved, 2)
        os.dup2(saved_out, 1)
        os.close(saved)
        os.close(saved_out)
        pc.mpiabort_on_error(previous)
    captured = _drain(capture)
    printed = _drain(capture_out)
    _kept.append(files)
    if failure is None:
        if printed:  # what the hoc code printed, and NEURON's warnings, as they were
            sys.stdout.write(printed)
            sys.stdout.flush()
        if captured.strip():
            sys.stderr.write(captured)
        return result
    raise CircuitError(f"{what}: {_summary(captured, printed, what)}", population=population,
                       file=file)
