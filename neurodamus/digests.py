"""SHA-1, SHA-256 and MD5 digests without OpenSSL: the content keys of caches (mechanisms,
morphologies, the combined import3d.hoc, balance assignments, checkpoints, random streams).

Why: `import hashlib` maps OpenSSL's libcrypto into the process, about 3.5 MB of resident
memory on every rank of every run, for a few short digests at start-up. CPython ships the same
algorithms as small built-in modules (`_sha1`, `_sha2` from 3.12, `_sha256` before, `_md5`):
the digests are the same bytes. Where those modules are missing (another interpreter, a
build without them), hashlib serves.
"""

import importlib
from typing import Any


def _builtin(names: tuple[tuple[str, str], ...]) -> Any:
    for module, attribute in names:
        try:
            return getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
    import hashlib

    return getattr(hashlib, names[-1][1])


def sha256(data: bytes = b"") -> Any:
    """A SHA-256 hash object (update, digest, hexdigest) of `data`."""
    return _builtin((("_sha2", "sha256"), ("_sha256", "sha256")))(data)


def sha1(data: bytes = b"") -> Any:
    """A SHA-1 hash object of `data`."""
    return _builtin((("_sha1", "sha1"),))(data)


def md5(data: bytes = b"") -> Any:
    """An MD5 hash object of `data`."""
    return _builtin((("_md5", "md5"),))(data)
