"""Each morphology read once per rank: the Import3d classes e-model templates call, with what
NEURON's Import3d did for a file replayed for the next cell on the same file.

Why: a published e-model template spends about 96% of its constructor in its
`load_morphology` (NEURON's hoc Import3d: 70% parsing the Neurolucida text, 25% creating the
sections one `execute` per 3-D point); channels, nseg and the axon stub take the rest. The
template's code is the user's and runs unchanged: only the library it calls is ours.

How: `install(h)` (before any template is loaded) writes NEURON's own Import3d files, with
Import3d_GUI, Import3d_SWC_read and Import3d_Neurolucida3 renamed NdPlain_<name>, followed
by hoc/nd_import3d_cache.hoc (classes of the original names), into one import3d.hoc in a
folder put first on HOC_LIBRARY_PATH, and loads it: every later load_file("import3d.hoc")
(the templates') finds that file already loaded. The readers only note the path;
`instantiate` then either

- runs NEURON's Import3d_GUI (NdPlain_*) on the parsed file, keeping the statements it
  executed in the cell (`instantiate(cell, 1)` keeps them), when the file is to be reused
  (`reuse`: the cells phase says how many local cells use each file); or
- replays them: the same `create`, `connect`, `pt3dstyle` and section-list statements,
  executed in the cell as NEURON's did, and each section's `pt3dadd(x, y, z, d)` statements
  as one vector `pt3dadd` of the numbers those statements held (the same text, read as
  doubles: the same bits); the soma contour is declared to NEURON's Python side as
  Import3d_GUI declares it.

So every cell gets the sections, 3-D points and lists that the plain template gives
(checked by tests/unit/test_import3d_cache.py and `--dump-cell-state`). Whatever is not the
batch path (a GUI, a cell that is a Python object or nil, a template that reads the reader's
parsed data, statements of another form) goes to NEURON's classes as it is.
"""

import hashlib
import logging
import os
import re
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..resources import hoc_dir
from .templates import library_dirs

log = logging.getLogger("neurodamus")

WRAPPED = ("Import3d_GUI", "Import3d_SWC_read", "Import3d_Neurolucida3")
PLAIN_PREFIX = "NdPlain_"
WRAPPERS = "nd_import3d_cache.hoc"
DISABLE_ENV = "NEURODAMUS_PLAIN_IMPORT3D"  # set (to anything but 0): NEURON's Import3d only

_h: Any = None  # NEURON's h, once installed
_installed = False


def install(h) -> bool:
    """Load our import3d.hoc before anything loads NEURON's; False (NEURON's classes stay)
    when NEURON's Import3d is already loaded or the fast path is switched off."""
    global _h, _installed
    if _installed:
        return True
    if os.environ.get(DISABLE_ENV, "0") not in ("", "0"):
        return False
    if h.name_declared("Import3d_GUI"):
        log.debug("Import3d already loaded: morphologies are read by NEURON's classes per cell")
        return False
    folder = _write_import3d(h)
    present = [str(p) for p in library_dirs()]
    if str(folder) not in present:  # first: before any other import3d.hoc
        os.environ["HOC_LIBRARY_PATH"] = ":".join([str(folder), *present, ""])
    h.nrnpython("import neurodamus.cells.import3d_cache")
    # By name, as the templates load it: load_file knows a file by the path its search found.
    if not h.load_file("import3d.hoc") or not h.name_declared(PLAIN_PREFIX + WRAPPED[0]):
        raise RuntimeError(f"load_file('import3d.hoc') did not load {folder / 'import3d.hoc'}")
    _h, _installed = h, True
    return True


def _neuron_import3d(h) -> tuple[Path, list[str]]:
    """NEURON's import3d.hoc and the files it opens, in its order."""
    library = Path(h.neuronhome()) / "lib" / "hoc"
    main = library / "import3d.hoc"
    parts = re.findall(r'xopen\("([^"]+)"\)', main.read_text())
    return main, [str(library / part) for part in parts]


def _write_import3d(h) -> Path:
    """The combined import3d.hoc, in a folder keyed by its content (shared by processes)."""
    main, parts = _neuron_import3d(h)
    pattern = re.compile(r"\b(" + "|".join(WRAPPED) + r")\b")
    plain = []
    for part in parts:
        text = Path(part).read_text()
        plain.append(f"// {part}, with {', '.join(WRAPPED)} renamed {PLAIN_PREFIX}*\n"
                     + pattern.sub(lambda m: PLAIN_PREFIX + m.group(1), text))
    head = [line for line in main.read_text().splitlines() if "load_file" in line]
    text = "\n".join([*head, *plain, (hoc_dir() / WRAPPERS).read_text()])
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"neurodamus-import3d-{digest}"
    target = folder / "import3d.hoc"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".import3d.{os.getpid()}.hoc"
        partial.write_text(text)
        os.replace(partial, target)
    return folder


# ------------------------------------------------------------------ what is replayed


@dataclass
class _Points:
    section: tuple[str, int]  # (array, index)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    z: list[float] = field(default_factory=list)
    d: list[float] = field(default_factory=list)


@dataclass
class Recording:
    """What NEURON's Import3d_GUI did in a cell for one file: hoc statements (executed in
    the cell) and 3-D points (as arrays), in their order; the soma contours to declare."""

    steps: list  # str (a statement) or (section, Vector x, y, z, d)
    contours: list  # (Import3d section object, its name in the cell)


_ADD = re.compile(r"^(\w+)(?:\[(\d+)\])? \{ pt3dadd\(([^,()]+), ([^,()]+), ([^,()]+), "
                  r"([^,()]+)\) \}\s*$")
_OTHER = re.compile(r"^(~create \w+\[\d+\]|forsec \"\w+\" \w+\.append|forall all\.append|"
                    r"\w+(?:\[\d+\])? connect \w+(?:\[\d+\])?\(0\), \S+|"
                    r"\w+(?:\[\d+\])? \{ pt3dstyle\(1, [^()]+\) \})\s*$")


def _record(commands, contours) -> Recording | None:
    """The statements as steps; None when one has a form this module does not know."""
    steps: list = []
    current: _Points | None = None
    for command in commands:
        added = _ADD.match(command)
        if added:
            section = (added.group(1), int(added.group(2) or 0))
            if current is None or current.section != section:
                current = _Points(section)
                steps.append(current)
            for values, text in zip((current.x, current.y, current.z, current.d),
                                    added.groups()[2:]):
                values.append(float(text))  # as hoc reads the number: correctly rounded
            continue
        if not _OTHER.match(command):
            log.debug("Import3d statement not replayed: %r", command)
            return None
        current = None
        steps.append(command)
    h = _h
    compiled = [step if isinstance(step, str) else
                (step.section, *(h.Vector(np.asarray(v)) for v in (step.x, step.y, step.z,
                                                                    step.d)))
                for step in steps]
    return Recording(compiled, contours)


def _section(cell, name: tuple[str, int]):
    return getattr(cell, name[0])[name[1]]


def _replay(recording: Recording, cell) -> None:
    h = _h
    for step in recording.steps:
        if isinstance(step, str):
            h.execute(step, cell)  # as Import3d_GUI runs it ('~': not wrapped in braces)
        else:
            section, x, y, z, d = step
            h.pt3dadd(x, y, z, d, sec=_section(cell, section))
    if recording.contours:
        import neuron

        for secobj, name in recording.contours:
            neuron._declare_contour(secobj, cell, name)


# ------------------------------------------------------------------ the cache


class _Cache:
    def __init__(self):
        self.uses: Counter = Counter()  # real path -> cells still to build on it
        self.recordings: dict = {}  # (reader kind, real path) -> Recording | None
        self.counts: Counter = Counter()  # "read" (NEURON's Import3d), "replayed"

    def clear(self):
        self.uses.clear()
        self.recordings.clear()


_CACHE = _Cache()


@contextmanager
def reuse(paths):
    """Within: a file read for a cell is replayed for the next cells on it; `paths` are the
    morphology files of the cells to be built (a file used once is not kept)."""
    _CACHE.clear()
    _CACHE.counts.clear()
    _CACHE.uses.update(os.path.realpath(p) for p in paths)
    try:
        yield _CACHE.counts
    finally:
        _CACHE.clear()


def _is_template_instance(cell) -> bool:
    from neuron import hoc

    return isinstance(cell, hoc.HocObject) and not cell.hname().startswith("PythonObject")


def plain_gui(reader, nargs: int):
    """NEURON's Import3d_GUI (the interactive tool) on the plain reader."""
    h = _h
    plain = reader.plain() if reader is not None and hasattr(reader, "nd_kind") else reader
    return h.NdPlain_Import3d_GUI(plain) if nargs == 1 else h.NdPlain_Import3d_GUI(plain, 1)


def instantiate(gui, cell, keep_commands) -> None:
    """Import3d_GUI.instantiate(cell[, keep_commands]) as NEURON's, replayed when the same file
    was read for an earlier cell of this cells phase."""
    h = _h
    reader = gui.swc
    ours = reader is not None and hasattr(reader, "nd_kind")
    path = os.path.realpath(reader.nd_path) if ours else ""
    key = (reader.nd_kind, path) if ours else None
    batch = ours and _is_template_instance(cell) and not keep_commands
    if batch and _CACHE.recordings.get(key) is not None:
        _replay(_CACHE.recordings[key], cell)
        _CACHE.counts["replayed"] += 1
        _used(key)
        return
    _CACHE.counts["read"] += 1
    plain = reader.plain() if ours else reader
    builder = h.NdPlain_Import3d_GUI(plain, 0)
    record = batch and _CACHE.uses[path] > 1 and key not in _CACHE.recordings
    if record or keep_commands:
        builder.instantiate(cell, 1)
        gui.commands = builder.commands
    else:
        builder.instantiate(cell)
    if record:
        commands = [builder.commands.o(i).s for i in range(int(builder.commands.count()))]
        contours = []
        for i in range(int(plain.sections.count())):
            section = plain.sections.o(i)
            if not section.is_subsidiary and section.iscontour_:
                name = h.ref("")
                builder.name(section, name)
                contours.append((section, name[0]))
        recording = _record(commands, contours) if _resolvable(commands, cell) else None
        _CACHE.recordings[key] = recording
        if not keep_commands:
            builder.commands.remove_all()
    if ours:
        reader.forget()  # the parsed reader is not kept (memory)
    if batch:
        _used(key)


def _resolvable(commands, cell) -> bool:
    """The sections the points go to are reachable from Python (public arrays)."""
    try:
        for command in commands:
            added = _ADD.match(command)
            if added:
                _section(cell, (added.group(1), int(added.group(2) or 0)))
    except (AttributeError, IndexError, LookupError, TypeError):
        return False
    return True


def _used(key) -> None:
    _CACHE.uses[key[1]] -= 1
    if _CACHE.uses[key[1]] <= 0:
        _CACHE.recordings.pop(key, None)
