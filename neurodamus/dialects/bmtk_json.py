"""Reading bmtk's JSON configs: manifests (with `${configdir}`) expanded, paths made
absolute, and the leniencies of one read, each said once."""

import hashlib
import json
import re
from pathlib import Path

from ..errors import ConfigError

FORMAT = 2  # of the strict copies and converted spike files: a new value invalidates them
# The node set of every cell, the target of spike inputs made from bmtk's inputs.
ALL_NODES = "neurodamus_all_nodes"
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class Leniencies:
    """The warnings of one read, each once."""

    def __init__(self):
        self.items: list[str] = []

    def add(self, key: str, message: str):
        line = f"{key}: {message}"
        if line not in self.items:
            self.items.append(line)


def read_json(path: Path, key: str | None = None) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path} not found", key=key)
    try:
        content = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"not valid JSON: {error}", file=path) from None
    if not isinstance(content, dict):
        raise ConfigError("must be a JSON object", file=path)
    return content


def manifest_values(raw: dict, config_dir: Path, file: Path) -> dict:
    """Manifest variables, expanded in order; paths made absolute (bmtk's `configdir`
    too), other values (a sweep number, a model id) kept as text."""
    values = {"configdir": str(config_dir), "workingdir": str(Path.cwd())}
    manifest = raw.get("manifest", {})
    if not isinstance(manifest, dict):
        raise ConfigError("must be an object", file=file, key="manifest")
    for name, value in manifest.items():
        if not isinstance(value, str):
            raise ConfigError(f"must be a string, got {value!r}", file=file,
                              key=f"manifest.{name}")
        expanded = substitute(value, values, file, f"manifest.{name}")
        path = Path(expanded)
        if "/" in expanded or expanded in (".", ".."):  # a path: made absolute
            expanded = str(path if path.is_absolute() else (config_dir / path).resolve())
        values[name.lstrip("$")] = expanded  # else text, as bmtk substitutes it ("35")
    return values


def substitute(text: str, values: dict, file: Path, key: str) -> str:
    def replace(match):
        name = match.group(1) or match.group(2)
        if name not in values:
            raise ConfigError(f"${name} is not in the manifest", file=file, key=key)
        return values[name]
    return _VARIABLE.sub(replace, text)


def expand(node, values: dict, file: Path, key: str = ""):
    if isinstance(node, str):
        return substitute(node, values, file, key) if "$" in node else node
    if isinstance(node, dict):
        return {k: expand(v, values, file, f"{key}.{k}" if key else k) for k, v in node.items()}
    if isinstance(node, list):
        return [expand(v, values, file, f"{key}[{i}]") for i, v in enumerate(node)]
    return node


def expanded_path(value: str, raw: dict, config_dir: Path) -> Path:
    try:
        manifest = manifest_values(raw, config_dir, config_dir)
        text = substitute(value, manifest, config_dir, "network")
    except ConfigError:
        return Path(value)
    path = Path(text)
    return path if path.is_absolute() else (config_dir / path).resolve()


def absolute(value, base: Path):
    if not isinstance(value, str) or not value:
        return value
    path = Path(value)
    return str(path if path.is_absolute() else (base / path).resolve())


def content_key(files, *details) -> str:
    """A cache key of the files (path, size, modification time) and the details, with
    FORMAT: a change to any of them gives another key."""
    stats = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) if Path(f).is_file()
             else (str(f),) for f in map(Path, files)]
    text = json.dumps([FORMAT, stats, *details], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]
