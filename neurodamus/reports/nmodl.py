"""What a report may record from a mod file, read from its NMODL source.

Reports are validated in the config phase, before nrnivmodl has built the circuit's
mechanisms, so the recordable variables of those mechanisms are read from the source: the
NEURON block (SUFFIX / POINT_PROCESS, RANGE, currents, USEION) and the STATE block, plus
the units declared next to each variable. This is a scanner for those few statements,
not an NMODL parser.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

_COMMENT_BLOCK = re.compile(r"\bCOMMENT\b.*?\bENDCOMMENT\b", re.S)
_LINE_COMMENT = re.compile(r"[:?][^\n]*")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DECLARATION = re.compile(rf"({_NAME})\s*(?:=\s*[-+.\deE]+\s*)?\(([^)]*)\)")  # name = 1 (unit)
_NOT_A_NAME = re.compile(r"\([^)]*\)|\bFROM\b.*?\bTO\b\s*\S+")  # units, FROM a TO b


@dataclass(frozen=True)
class Mechanism:
    """A mechanism's recordable variables, named as NEURON exposes them.

    Density mechanisms: `variables` carry the suffix (`m_hh`); ion variables (`ina`, `ena`,
    `nai`) are listed apart because they belong to the ion, not to the mechanism.
    Point processes: plain names (`i`, `g`).
    """

    name: str
    point_process: bool
    variables: frozenset = frozenset()
    ion_variables: frozenset = frozenset()
    current: str | None = None  # the current a point process contributes (nA), if any
    electrode: bool = False  # ELECTRODE_CURRENT: injected, not a membrane current
    units: dict = field(default_factory=dict, compare=False)  # variable -> declared unit


def _strip_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _COMMENT_BLOCK.sub("", text))


def _block(text: str, keyword: str) -> str:
    """Body of the first `KEYWORD { ... }` block (braces balanced), or ''."""
    match = re.search(rf"\b{keyword}\s*{{", text)
    if not match:
        return ""
    depth, start = 1, match.end()
    for position in range(start, len(text)):
        if text[position] == "{":
            depth += 1
        elif text[position] == "}":
            depth -= 1
            if depth == 0:
                return text[start:position]
    return text[start:]


def _names_after(statement: str, body: str) -> list[str]:
    """Names listed by every `STATEMENT a, b, c` line of the NEURON block."""
    names = []
    for match in re.finditer(rf"\b{statement}\b([^\n]*)", body):
        names.extend(re.findall(_NAME, match.group(1)))
    return names


def _ion_variables(body: str) -> set[str]:
    names: set[str] = set()
    for match in re.finditer(rf"\bUSEION\s+({_NAME})([^\n]*)", body):
        ion, rest = match.group(1), match.group(2)
        rest = re.split(r"\bVALENCE\b", rest)[0]
        names.update(n for n in re.findall(_NAME, rest) if n not in ("READ", "WRITE"))
        names.update({f"i{ion}", f"e{ion}", f"{ion}i", f"{ion}o"})
    return names


def _declared_units(text: str) -> dict[str, str]:
    units: dict[str, str] = {}
    for keyword in ("PARAMETER", "ASSIGNED", "STATE"):
        for match in _DECLARATION.finditer(_block(text, keyword)):
            units.setdefault(match.group(1), match.group(2).strip())
    return units


def scan_mod_text(text: str) -> Mechanism | None:
    """The mechanism a mod file defines, or None for one that is neither density nor point
    process (e.g. an ARTIFICIAL_CELL, which has no membrane to record)."""
    text = _strip_comments(text)
    body = _block(text, "NEURON")
    suffix = re.search(rf"\bSUFFIX\s+({_NAME})", body)
    point = re.search(rf"\bPOINT_PROCESS\s+({_NAME})", body)
    if not (suffix or point):
        return None
    nonspecific = _names_after("NONSPECIFIC_CURRENT", body)
    electrode = _names_after("ELECTRODE_CURRENT", body)
    own = set(_names_after("RANGE", body)) | set(nonspecific) | set(electrode)
    own |= set(re.findall(_NAME, _NOT_A_NAME.sub(" ", _block(text, "STATE"))))
    ions = _ion_variables(body)
    units = _declared_units(text)
    if point:
        currents = electrode + nonspecific + sorted(n for n in ions if n.startswith("i"))
        return Mechanism(point.group(1), True, frozenset(own | ions), frozenset(),
                         current=currents[0] if currents else None, electrode=bool(electrode),
                         units=units)
    assert suffix is not None  # a density mechanism: not a point process, so SUFFIX matched
    name = suffix.group(1)
    own -= ions  # an ion variable listed as RANGE is still the ion's
    return Mechanism(name, False, frozenset(f"{v}_{name}" for v in own), frozenset(ions),
                     units={f"{v}_{name}": u for v, u in units.items() if v in own}
                     | {v: u for v, u in units.items() if v in ions})


def scan_mod_files(paths) -> dict[str, Mechanism]:
    """{mechanism name: Mechanism} for the given mod files (unreadable ones are skipped:
    the mechanisms phase reports them by name)."""
    mechanisms = {}
    for path in paths:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        mechanism = scan_mod_text(text)
        if mechanism is not None:
            mechanisms[mechanism.name] = mechanism
    return mechanisms
