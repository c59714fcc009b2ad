"""Where the files that ship with neurodamus live: our hoc templates and NMODL mechanisms."""

import os
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parent.parent


def hoc_dir() -> Path:
    return Path(os.environ.get("NEURODAMUS_HOC_DIR", _REPOSITORY / "hoc"))


def mod_dir() -> Path:
    return Path(os.environ.get("NEURODAMUS_MOD_DIR", _REPOSITORY / "mod"))
