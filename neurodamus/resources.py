"""Where the files that ship with neurodamus live: our hoc templates and NMODL mechanisms.

The repository keeps them in top-level hoc/ and mod/; the wheel and sdist ship them inside
the package as neurodamus/hoc and neurodamus/mod (pyproject.toml's package-dir). Every
lookup goes through `shipped_dir`, so an installed wheel, an editable install and a plain
source checkout all find them. NEURODAMUS_HOC_DIR / NEURODAMUS_MOD_DIR override.
"""

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
HOC_ENV, MOD_ENV = "NEURODAMUS_HOC_DIR", "NEURODAMUS_MOD_DIR"


def shipped_dir(name: str) -> Path:
    """`name` (hoc or mod) inside the installed package, else beside it in the checkout."""
    inside, beside = _PACKAGE / name, _PACKAGE.parent / name
    return inside if inside.is_dir() else beside


def hoc_dir() -> Path:
    return Path(os.environ.get(HOC_ENV) or shipped_dir("hoc"))


def mod_dir() -> Path:
    return Path(os.environ.get(MOD_ENV) or shipped_dir("mod"))
