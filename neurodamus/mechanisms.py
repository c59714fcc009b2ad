"""Build and load NMODL mechanisms: ours (mod/) plus the circuit's own mechanisms_dir and
the directories given with `--mechanisms`, or a prebuilt library named by NRNMECH_LIB_PATH
(the environment variable neurodamus users already set), loaded as is with ours beside it.

nrnivmodl runs once per distinct set of mod files: the build lands in a cache directory
named by a hash of the files' names and contents (and the NEURON version), built under a
temporary name and renamed when complete, so concurrent or interrupted builds never
leave a half-built cache entry. Rank 0 builds while the others wait; all ranks load.
"""

import hashlib
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import MechanismError
from .resources import mod_dir

log = logging.getLogger(__name__)
LIBRARY_NAMES = ("libnrnmech.so", "libnrnmech.dylib")  # .dylib: some macOS builds of NEURON
_LOADED: set[str] = set()


def default_cache_dir() -> Path:
    base = os.environ.get("NEURODAMUS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "neurodamus")
    return Path(base) / "mechanisms"


PREBUILT_ENV = "NRNMECH_LIB_PATH"
WHERE_MECHANISMS_COME_FROM = ("--mechanisms DIR, components.mechanisms_dir or "
                              f"{PREBUILT_ENV}=<libnrnmech.so>")
_NAME_STATEMENT = re.compile(r"^\s*(?:SUFFIX|POINT_PROCESS|ARTIFICIAL_CELL)\s+(\w+)", re.M)
_COMMENT_BLOCK = re.compile(r"^\s*COMMENT\b.*?^\s*ENDCOMMENT\b", re.M | re.S)


def mod_files_of(directory: Path) -> list[Path]:
    """The .mod files of a mechanisms directory; bmtk keeps them in its `modfiles/` folder."""
    found = sorted(directory.glob("*.mod"))
    if not found and (directory / "modfiles").is_dir():
        found = sorted((directory / "modfiles").glob("*.mod"))
    return found


def mechanism_sources(extra_dirs=(), skip_names=frozenset()) -> list[Path]:
    """Our mod files, then each extra directory's; a later file replaces an earlier one of the
    same name. Files defining a mechanism in `skip_names` (already loaded from a prebuilt
    library) are left out, since NEURON cannot define a mechanism twice."""
    by_name = {}
    for directory in [mod_dir(), *extra_dirs]:
        directory = Path(directory)
        if not directory.is_dir():
            raise MechanismError(f"mechanisms directory {directory} not found")
        for path in mod_files_of(directory):
            by_name[path.name] = path
    chosen = [by_name[name] for name in sorted(by_name)]
    return [path for path in chosen if not set(mechanism_names(path)) & set(skip_names)]


def mechanism_names(path: Path) -> list[str]:
    """The mechanisms a mod file defines (its SUFFIX / POINT_PROCESS / ARTIFICIAL_CELL)."""
    text = _COMMENT_BLOCK.sub("", path.read_text(errors="replace"))
    return _NAME_STATEMENT.findall(text)


def source_digests(sources: list[Path]) -> dict[str, str]:
    """Per mod file, a digest of its code without comments or spacing: what a checkpoint
    records, since BBSaveState's files are laid out by the mechanisms' variables and a mod
    file changed between save and restore would otherwise abort inside NEURON's restore."""
    digests = {}
    for path in sources:
        text = _COMMENT_BLOCK.sub("", path.read_text(errors="replace"))
        code = " ".join(line.split(":", 1)[0] for line in text.splitlines()).split()
        digests[path.name] = hashlib.sha256(" ".join(code).encode()).hexdigest()[:16]
    return digests


def built_library(directory: Path) -> Path | None:
    """The library nrnivmodl built in `directory`: it writes into a folder named by the
    machine NEURON was built for (x86_64, aarch64, arm64, ...), normally platform.machine();
    any other single build folder is taken too, since that name is NEURON's choice."""
    directory = Path(directory)
    for name in LIBRARY_NAMES:
        if (directory / platform.machine() / name).is_file():
            return directory / platform.machine() / name
    found = sorted(path for name in LIBRARY_NAMES for path in directory.glob(f"*/{name}"))
    return found[0] if len(found) == 1 else None


def prebuilt_library() -> Path | None:
    """The library named by NRNMECH_LIB_PATH (the first of a colon-separated list), if set."""
    value = os.environ.get(PREBUILT_ENV, "").strip()
    if not value:
        return None
    path = Path(value.split(os.pathsep)[0])
    if path.is_dir():
        path = built_library(path) or path / LIBRARY_NAMES[0]
    if not path.is_file():
        raise MechanismError(f"{PREBUILT_ENV}={value}: no mechanism library there")
    return path


def load_prebuilt(h, is_root: bool) -> set[str]:
    """The `mechanisms-prebuilt` phase: the user's own compiled library (NRNMECH_LIB_PATH),
    loaded as it is; gives the names it defines (left out of ours)."""
    library = prebuilt_library()
    if library is None:
        return set()
    load_mechanisms(h, library)
    if is_root:
        log.info("Mechanisms from %s=%s", PREBUILT_ENV, library)
    return defined_mechanisms(h)


def defined_mechanisms(h, kinds=(0, 1)) -> set[str]:
    """Names of the mechanisms NEURON knows now: density mechanisms (kind 0) and point
    processes (kind 1)."""
    names = set()
    for kind in kinds:
        types = h.MechanismType(kind)
        name = h.ref("")
        for i in range(int(types.count())):
            types.select(i)
            types.selected(name)
            names.add(name[0])
    return names


def artificial_cell_names(h) -> set[str]:
    """The loaded mechanisms declared ARTIFICIAL_CELL (IntFire1, NetStim, VecStim, ...)."""
    types = h.MechanismType(1)
    name = h.ref("")
    names = set()
    for i in range(int(types.count())):
        if types.is_artificial(i):
            types.select(i)
            types.selected(name)
            names.add(name[0])
    return names


def _tool(name: str) -> str:
    """A NEURON build tool: beside this Python (a venv), in the neuron wheel, or on PATH."""
    import neuron

    for candidate in (Path(sys.executable).parent / name,
                      Path(neuron.__file__).parent / ".data" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise MechanismError(f"'{name}' not found (is the neuron package installed?)")
    return found


def cache_key(sources: list[Path], coreneuron: bool = False) -> str:
    from neuron import __version__ as neuron_version

    digest = hashlib.sha256(neuron_version.encode() + (b"+coreneuron" if coreneuron else b""))
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _environment() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _find_broken(sources: list[Path], workdir: Path) -> tuple[Path | None, str]:
    """Translate each file alone with nocmodl to name the one that does not compile."""
    nocmodl = _tool("nocmodl")
    for path in sources:
        result = subprocess.run([nocmodl, path.name], cwd=path.parent, capture_output=True,
                                text=True, env=_environment())
        generated = path.with_suffix(".cpp")
        if generated.exists() and path.parent == workdir:
            generated.unlink()
        if result.returncode != 0:
            return path, (result.stdout + result.stderr).strip()
    return None, ""


def _raise_if_coreneuron_only(output: str, sources: list[Path]):
    """A mod file that NEURON translates but whose code CoreNEURON's compiler refuses (e.g.
    VERBATIM calls of NEURON-only functions such as nrnran123_setids): one error naming it
    and its first compiler error, without the nrnivmodl wrapper's own Python traceback."""
    failed = re.findall(r"corenrn/build/([A-Za-z0-9_]+)\.o\] Error", output)
    if not failed:
        return
    by_name = {path.stem: path for path in sources}
    first = next((line.strip() for line in output.splitlines() if " error: " in line), "")
    names = ", ".join(sorted({f"{name}.mod" for name in failed}))
    raise MechanismError(f"{names}: does not compile for CoreNEURON ({first}): run with "
                         "--simulator NEURON, or give the mod file CoreNEURON-compatible code",
                         file=by_name.get(failed[0]))


def build_mechanisms(sources: list[Path], cache_dir: Path | None = None,
                     coreneuron: bool = False) -> Path:
    """Compile `sources` (or reuse the cached build); returns the path of libnrnmech.so.
    With `coreneuron`, CoreNEURON's libcorenrnmech.so is built beside it."""
    cache_dir = Path(cache_dir or default_cache_dir())
    target = cache_dir / cache_key(sources, coreneuron)
    cached = built_library(target)
    if cached:
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="build-", dir=cache_dir))
    try:
        (workdir / "mod").mkdir()
        copies = []
        for path in sources:
            shutil.copy2(path, workdir / "mod" / path.name)
            copies.append(workdir / "mod" / path.name)
        log.info("Compiling %d mod files with nrnivmodl", len(sources))
        command = [_tool("nrnivmodl"), *(["-coreneuron"] if coreneuron else []), "mod"]
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                                env=_environment())
        built = built_library(workdir) if result.returncode == 0 else None
        if built is None and coreneuron:
            _raise_if_coreneuron_only(result.stdout + result.stderr, sources)
        if built is None:
            broken, detail = _find_broken(copies, workdir / "mod")
            original = sources[copies.index(broken)] if broken else None
            output = detail or "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise MechanismError(f"does not compile:\n{output}" if original
                                 else f"nrnivmodl failed:\n{output}", file=original)
        try:
            workdir.rename(target)
        except OSError:  # another process finished the same build first
            shutil.rmtree(workdir, ignore_errors=True)
        return target / built.relative_to(workdir)
    finally:
        if workdir.exists():
            shutil.rmtree(workdir, ignore_errors=True)


def load_mechanisms(h, library: Path):
    """Load a compiled mechanism library into this process (once)."""
    key = str(Path(library).resolve())
    if key in _LOADED:
        return
    if not h.nrn_load_dll(key if key.isascii() else os.fsencode(key)):  # see hoc_text
        raise MechanismError(f"NEURON could not load the mechanism library {key}")
    _LOADED.add(key)
    core_library = Path(key).with_name("libcorenrnmech.so")
    if core_library.is_file():  # CoreNEURON finds the matching mechanisms through this variable
        os.environ["CORENEURONLIB"] = str(core_library)


def set_mechanism_globals(h, values: dict, config_file=None):
    """conditions.mechanisms: {SUFFIX: {name: value}} sets NEURON's global `name_SUFFIX`.

    Unknown mechanisms or globals are config errors (after loading, since only the
    compiled mechanisms know their globals)."""
    from .errors import ConfigError

    problems = []
    for suffix, variables in values.items():
        for name, value in variables.items():
            global_name = f"{name}_{suffix}"
            if not hasattr(h, global_name):
                problems.append(f"key 'conditions.mechanisms.{suffix}.{name}': "
                                f"mechanism '{suffix}' has no global '{name}'")
                continue
            setattr(h, global_name, value)
    if problems:
        raise ConfigError("; ".join(problems), file=config_file)
