"""Build and load NMODL mechanisms: ours (mod/) plus the circuit's own mechanisms_dir.

nrnivmodl runs once per distinct set of mod files: the build lands in a cache directory
named by a hash of the files' names and contents (and the NEURON version), built under a
temporary name and renamed when complete, so concurrent or interrupted builds never
leave a half-built cache entry. Rank 0 builds while the others wait; all ranks load.
"""

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import MechanismError
from .resources import mod_dir

log = logging.getLogger(__name__)
LIBRARY = Path("x86_64") / "libnrnmech.so"
_LOADED: set[str] = set()


def default_cache_dir() -> Path:
    base = os.environ.get("NEURODAMUS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "neurodamus")
    return Path(base) / "mechanisms"


def mechanism_sources(extra_dirs=()) -> list[Path]:
    """Our mod files, then each circuit directory's; a circuit file replaces ours of the same name."""
    by_name = {}
    for directory in [mod_dir(), *extra_dirs]:
        directory = Path(directory)
        if not directory.is_dir():
            raise MechanismError(f"mechanisms directory {directory} not found")
        for path in sorted(directory.glob("*.mod")):
            by_name[path.name] = path
    return [by_name[name] for name in sorted(by_name)]


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


def build_mechanisms(sources: list[Path], cache_dir: Path | None = None,
                     coreneuron: bool = False) -> Path:
    """Compile `sources` (or reuse the cached build); returns the path of libnrnmech.so.
    With `coreneuron`, CoreNEURON's libcorenrnmech.so is built beside it."""
    cache_dir = Path(cache_dir or default_cache_dir())
    target = cache_dir / cache_key(sources, coreneuron)
    if (target / LIBRARY).is_file():
        return target / LIBRARY
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
        if result.returncode != 0 or not (workdir / LIBRARY).is_file():
            broken, detail = _find_broken(copies, workdir / "mod")
            original = sources[copies.index(broken)] if broken else None
            output = detail or "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise MechanismError(f"does not compile:\n{output}" if original
                                 else f"nrnivmodl failed:\n{output}", file=original)
        try:
            workdir.rename(target)
        except OSError:  # another process finished the same build first
            shutil.rmtree(workdir, ignore_errors=True)
        return target / LIBRARY
    finally:
        if workdir.exists():
            shutil.rmtree(workdir, ignore_errors=True)


def load_mechanisms(h, library: Path):
    """Load a compiled mechanism library into this process (once)."""
    key = str(Path(library).resolve())
    if key in _LOADED:
        return
    if not h.nrn_load_dll(key):
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
                problems.append(f"key 'conditions.mechanisms.{suffix}.{name}': mechanism '{suffix}' "
                                f"has no global '{name}'")
                continue
            setattr(h, global_name, value)
    if problems:
        raise ConfigError("; ".join(problems), file=config_file)
