"""Finding and loading hoc cell templates: `hoc:Name` is looked up as Name.hoc in the
population's biophysical_neuron_models_dir, then in neurodamus' own hoc/ directory."""

from pathlib import Path

from ..errors import CircuitError
from ..resources import hoc_dir


def template_name(model_template: str, population: str) -> str:
    schema, _, name = model_template.partition(":")
    if schema != "hoc" or not name:
        raise CircuitError(f"model_template '{model_template}' is not of the form hoc:Name",
                           population=population)
    return name


def find_template(name: str, models_dir: Path | None, population: str) -> Path:
    candidates = ([models_dir / f"{name}.hoc"] if models_dir else []) + [hoc_dir() / f"{name}.hoc"]
    for path in candidates:
        if path.is_file():
            return path
    raise CircuitError(f"template '{name}' not found (looked for {', '.join(map(str, candidates))})",
                       population=population)


def load_template(h, name: str, path: Path):
    """Load the template file once; NEURON cannot redefine a template."""
    if hasattr(h, name):
        return
    if not h.load_file(str(path)):
        raise CircuitError(f"hoc file {path} failed to load")
    if not hasattr(h, name):
        raise CircuitError(f"hoc file {path} does not define template '{name}'")
