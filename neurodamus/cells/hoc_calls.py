"""Calling hoc code that user files define (templates, morphology readers) so that a hoc error
becomes one CircuitError instead of an MPI abort.

Under MPI, NEURON aborts every rank on a hoc error unless abort-on-error is off; with it off,
the error comes back to Python as a RuntimeError while NEURON prints the real reason (e.g.
"CaDynamics_DC0 is not a MECHANISM ... in cADpyr_L2TPC.hoc near line 5") on the C stderr.
That text is captured here and folded into the error message.
"""

import os
import re
import sys
import tempfile

from ..errors import CircuitError

# Under MPI NEURON starts each line with the rank number.
_REASON = re.compile(r"^(?:\d+ )?NEURON: (?!hoc_Load_file)(.*)$", re.M)
_WHERE = re.compile(r"^(?:\d+ )? in (\S+) near line (\d+)$", re.M)


def _summary(captured: str) -> str:
    """'reason (file near line N)' from NEURON's error printout."""
    reasons = _REASON.findall(captured)
    where = _WHERE.findall(captured)
    if not reasons:
        return " ".join(captured.split())[-300:] or "hoc error"
    text = reasons[0].strip()
    if where:
        text += f" (in {where[0][0]} near line {where[0][1]})"
    return text


def call_hoc(pc, what: str, function, *args, population=None, file=None):
    """`function(*args)`; a hoc error raises CircuitError('<what>: <NEURON's reason>')."""
    previous = pc.mpiabort_on_error(0)
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        failure = None
        try:
            result = function(*args)
        except RuntimeError as error:
            failure = error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            pc.mpiabort_on_error(previous)
        capture.seek(0)
        captured = capture.read().decode(errors="replace")
    if failure is None:
        if captured.strip():  # warnings: let the user see them as NEURON printed them
            sys.stderr.write(captured)
        return result
    raise CircuitError(f"{what}: {_summary(captured)}", population=population, file=file)
