"""What makes neurodamus a package: shipped files found wherever it is installed, one source
for the version, the mechanisms library found by platform, and an example circuit whose
templates other SONATA readers find."""

import platform
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import neurodamus
from neurodamus import mechanisms, resources
from neurodamus.cells.templates import find_template

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "configs" / "example"


def test_shipped_dirs_inside_the_package_win_over_the_checkout(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "neurodamus"
    (package / "hoc").mkdir(parents=True)
    (tmp_path / "site-packages" / "mod").mkdir()
    monkeypatch.setattr(resources, "_PACKAGE", package)
    monkeypatch.delenv(resources.HOC_ENV, raising=False)
    monkeypatch.delenv(resources.MOD_ENV, raising=False)
    assert resources.hoc_dir() == package / "hoc"  # an installed wheel
    assert resources.mod_dir() == tmp_path / "site-packages" / "mod"  # beside: a checkout
    monkeypatch.setenv(resources.MOD_ENV, str(tmp_path / "mine"))
    assert resources.mod_dir() == tmp_path / "mine"


def test_checkout_finds_its_hoc_and_mod():
    assert (resources.hoc_dir() / "NdExcCell.hoc").is_file()
    assert (resources.mod_dir() / "NdTmExc.mod").is_file()


def test_version_has_one_source():
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "neurodamus.__version__"}
    assert neurodamus.__version__.count(".") >= 2


@pytest.mark.parametrize("machine, folder", [("x86_64", "x86_64"), ("aarch64", "aarch64"),
                                             ("arm64", "arm64"), ("aarch64", "arm64")])
def test_mechanisms_library_found_by_platform(tmp_path, monkeypatch, machine, folder):
    """nrnivmodl's folder is NEURON's machine name; a single other build folder is taken."""
    monkeypatch.setattr(platform, "machine", lambda: machine)
    (tmp_path / "mod").mkdir()
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "libnrnmech.so").write_bytes(b"")
    assert mechanisms.built_library(tmp_path) == tmp_path / folder / "libnrnmech.so"


def test_mechanisms_library_ambiguous_or_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    assert mechanisms.built_library(tmp_path) is None
    for folder in ("x86_64", "aarch64"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "libnrnmech.so").write_bytes(b"")
    assert mechanisms.built_library(tmp_path) is None
    (tmp_path / "riscv64").mkdir()
    (tmp_path / "riscv64" / "libnrnmech.so").write_bytes(b"")
    assert mechanisms.built_library(tmp_path) == tmp_path / "riscv64" / "libnrnmech.so"


def test_prebuilt_library_directory_by_platform(tmp_path, monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    (tmp_path / "aarch64").mkdir()
    (tmp_path / "aarch64" / "libnrnmech.so").write_bytes(b"")
    monkeypatch.setenv(mechanisms.PREBUILT_ENV, str(tmp_path))
    assert mechanisms.prebuilt_library() == tmp_path / "aarch64" / "libnrnmech.so"


@pytest.mark.parametrize("population, template", [("exc", "NdExcCell"), ("inh", "NdFsCell")])
def test_example_templates_resolve_per_sonata(population, template):
    """bluepysnap finds each model file in biophysical_neuron_models_dir, and it is the file
    the driver loads (the circuit's own before neurodamus' hoc/)."""
    bluepysnap = pytest.importorskip("bluepysnap")
    nodes = bluepysnap.Circuit(str(EXAMPLE / "circuit_config.json")).nodes[population]
    path = Path(nodes.models.get_filepath(0))
    assert path == EXAMPLE / "emodels" / f"{template}.hoc" and path.is_file()
    assert find_template(template, EXAMPLE / "emodels", population) == path
    assert Path(nodes.morph.get_filepath(0)).is_file()


LOAD_ALONE = """
import sys
from pathlib import Path
from neuron import h
template, morphology = sys.argv[1], Path(sys.argv[2])
assert h.load_file(template) == 1
cell = h.NdExcCell(0, str(morphology.parent), morphology.name)
print(len(list(cell.all)), cell.soma[0].L > 0)
"""

def _run_on_example_cell(script: str) -> list[str]:
    """`script` in plain NEURON (no neurodamus, working directory /) with the model file and
    the morphology that bluepysnap names for the example's exc node 0; its printed words."""
    bluepysnap = pytest.importorskip("bluepysnap")
    nodes = bluepysnap.Circuit(str(EXAMPLE / "circuit_config.json")).nodes["exc"]
    result = subprocess.run([sys.executable, "-c", script, nodes.models.get_filepath(0),
                             nodes.morph.get_filepath(0)], check=False, capture_output=True,
                            text=True, timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_example_template_loads_without_neurodamus():
    """As bluecellulab would: plain NEURON loads the model file bluepysnap names (the
    morphology helper is written into it) and builds the cell from bluepysnap's morphology
    path."""
    sections, has_soma = _run_on_example_cell(LOAD_ALONE)[-2:]
    assert int(sections) > 3 and has_soma == "True"


RUN_AS_TEXT = """
import sys
from pathlib import Path
from neuron import h
template, morphology = Path(sys.argv[1]), Path(sys.argv[2])
h(template.read_text().replace("NdExcCell", "NdExcCell_renamed"))  # as bluecellulab does
cell = h.NdExcCell_renamed(0, str(morphology.parent), morphology.name).getCell()
counts = [cell.nSecAll, cell.nSecSoma, cell.nSecAxonal, cell.nSecBasal, cell.nSecApical]
print(*[int(c) for c in counts], len(list(cell.all)), int(cell.nSecAxonalOrig))
"""


def test_example_template_runs_as_text_with_the_bbp_cell_interface():
    """bluecellulab renames a template and runs its text (no file, so no directory to load
    helpers from), then reads the BBP interface: getCell() and the section counts."""
    printed = _run_on_example_cell(RUN_AS_TEXT)[-7:]
    every, soma, axon, basal, apical, listed, axon_before = map(int, printed)
    assert every == listed == soma + axon + basal + apical and soma == 1
    assert axon > 0 and basal > 0 and apical > 0 and axon_before == axon
