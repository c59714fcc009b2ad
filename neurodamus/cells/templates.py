"""Finding and loading hoc cell templates: `hoc:Name` is looked up as Name.hoc in the
population's biophysical_neuron_models_dir, then in the directories of HOC_LIBRARY_PATH,
then in neurodamus' own hoc/ directory.

Templates follow the e-model contract of published circuits: the constructor takes
(gid, morphology_dir, morphology_file, *extra), where `extra` are the node attributes the
template names in the string `<Name>_NeededAttributes` ("a;b;c"), or else one argument
(the length of axon to keep; 0: the template's replacement axon).
"""

import os
from pathlib import Path

from ..errors import CircuitError
from ..mechanisms import WHERE_MECHANISMS_COME_FROM
from ..resources import hoc_dir
from .hoc_calls import call_hoc, hoc_text

NEEDED_ATTRIBUTES_SUFFIX = "_NeededAttributes"
KEEP_AXON_DEFAULT = 0  # the one extra argument of templates that need no node attributes


def template_name(model_template: str, population: str) -> str:
    schema, _, name = model_template.partition(":")
    if schema != "hoc" or not name:
        raise CircuitError(f"model_template '{model_template}' is not of the form hoc:Name",
                           population=population)
    return name


def library_dirs() -> list[Path]:
    """HOC_LIBRARY_PATH's folders as NEURON reads them: split at colons when there is one,
    else at spaces (so a folder whose name has spaces needs a colon in the value)."""
    value = os.environ.get("HOC_LIBRARY_PATH", "")
    parts = value.split(":") if ":" in value else value.split()
    return [Path(part) for part in parts if part.strip()]


def find_template(name: str, models_dir: Path | None, population: str) -> Path:
    directories = ([models_dir] if models_dir else []) + library_dirs() + [hoc_dir()]
    candidates = [directory / f"{name}.hoc" for directory in directories]
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(map(str, candidates))
    raise CircuitError(f"template '{name}' not found (looked for {looked})",
                       population=population)


def make_helpers_findable(template_path: Path):
    """A template's own `load_file("helper.hoc")` is resolved by NEURON from the working
    directory and HOC_LIBRARY_PATH (read at each load_file), not from the template's folder:
    append that folder and our hoc/ (e.g. nd_morphology.hoc) after the user's own entries."""
    wanted = [Path(template_path).parent, hoc_dir()]
    present = library_dirs()
    missing = [str(d) for d in wanted if d not in present]
    if missing:
        # colon-separated, with a colon even for one folder: folders may contain spaces
        os.environ["HOC_LIBRARY_PATH"] = ":".join([*map(str, present), *missing, ""])


def load_template(h, pc, name: str, path: Path, population: str | None = None):
    """Load the template file once (NEURON cannot redefine a template); a hoc error in it,
    e.g. a mechanism that is not loaded, is one CircuitError naming the file."""
    if hasattr(h, name):
        return
    make_helpers_findable(path)
    try:
        loaded = call_hoc(pc, f"template file {path} does not load", h.load_file, hoc_text(path),
                          population=population)
    except CircuitError as error:
        if "is not a MECHANISM" in str(error):
            raise CircuitError(f"{error}; compile or load that mechanism with "
                               f"{WHERE_MECHANISMS_COME_FROM}") from None
        raise
    if not loaded:
        raise CircuitError(f"hoc file {path} failed to load", population=population)
    if not hasattr(h, name):
        raise CircuitError(f"hoc file {path} does not define template '{name}'",
                           population=population)


def needed_attributes(h, name: str) -> list[str]:
    """The node attributes template `name` takes after the morphology (may be none)."""
    variable = name + NEEDED_ATTRIBUTES_SUFFIX
    if not hasattr(h, variable):
        return []
    value = getattr(h, variable)
    text = value if isinstance(value, str) else str(value)
    return [part.strip() for part in text.split(";") if part.strip()]


def sample_arguments(h, name: str) -> tuple:
    """Constructor arguments after the morphology for a sample instance (load balancing,
    dry runs): 1.0 for each needed node attribute (a neutral scaler), else the keep-axon
    default."""
    needed = needed_attributes(h, name)
    return tuple(1.0 for _ in needed) if needed else (KEEP_AXON_DEFAULT,)
