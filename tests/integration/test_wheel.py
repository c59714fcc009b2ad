"""neurodamus as a real package: the sdist and the wheel built from it carry everything the
driver reads at run time (hoc templates, mod files, test-circuit data), and the installed
wheel runs a circuit on 2 ranks from outside the repository.

Built and installed without network: the build uses this venv's setuptools (no build
isolation), and the fresh venv reaches this venv's dependencies through a .pth file written
after the wheel is installed (so pip never sees the editable neurodamus of this venv), and
links to the MPI libraries that the mpich wheel keeps in the venv's lib/.
"""

import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import MPIEXEC, REPOSITORY, assert_ok

from neurodamus import __version__
from neurodamus.reports import read_spikes_by_population

pytestmark = pytest.mark.mpi
SOURCES = ["pyproject.toml", "setup.py", "README.md", "neurodamus", "hoc", "mod"]
RUN_DATA = ["neurodamus/hoc/NdExcCell.hoc", "neurodamus/hoc/NdFsCell.hoc",
            "neurodamus/hoc/nd_morphology.hoc", "neurodamus/mod/NdTmExc.mod",
            "neurodamus/testing/bbp_style/NdTestEModel.hoc",
            "neurodamus/testing/bbp_style/mod/ProbAMPANMDA_EMS.mod"]
SHOW_INSTALL = ("import json, importlib.metadata as m, neurodamus, neurodamus.resources as r; "
                "print(json.dumps({'file': neurodamus.__file__, 'hoc': str(r.hoc_dir()), "
                "'mod': str(r.mod_dir()), 'version': neurodamus.__version__, "
                "'metadata': m.version('neurodamus')}))")


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(list(map(str, command)), check=False, capture_output=True,
                            text=True, timeout=240, **kwargs)
    assert_ok(result)
    return result


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """(sdist, wheel): the sdist from a copy of the package sources (a stale build/ in the
    checkout cannot leak in), the wheel from that sdist."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPOSITORY / name).is_dir():
            shutil.copytree(REPOSITORY / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPOSITORY / name, source / name)
    build_sdist = "import sys, setuptools.build_meta as b; b.build_sdist(sys.argv[1])"
    _run([sys.executable, "-c", build_sdist, base / "dist"], cwd=source)
    (sdist,) = (base / "dist").glob("neurodamus-*.tar.gz")
    _run([sys.executable, "-m", "pip", "wheel", sdist, "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", base / "dist"], cwd=base)
    (wheel,) = (base / "dist").glob("neurodamus-*.whl")
    return sdist, wheel


def test_packages_carry_run_time_data_and_version(packages):
    sdist, wheel = packages
    assert wheel.name.startswith(f"neurodamus-{__version__}-")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert set(RUN_DATA) <= shipped, set(RUN_DATA) - shipped
    modules = {path.relative_to(REPOSITORY).as_posix()
               for path in (REPOSITORY / "neurodamus").rglob("*.py")}
    assert modules <= shipped, modules - shipped  # a folder without __init__.py is left out
    assert not any(name.startswith(("hoc/", "mod/", "tests/")) for name in shipped)
    with tarfile.open(sdist) as archive:
        in_sdist = {name.partition("/")[2] for name in archive.getnames()}
    assert {"hoc/NdExcCell.hoc", "mod/NdTmExc.mod", "setup.py"} <= in_sdist


@pytest.fixture(scope="module")
def fresh_venv(packages, tmp_path_factory):
    """A new venv outside the repository with the wheel installed, and this venv's
    dependencies visible through a .pth file."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
          "--no-deps", "--no-index", packages[1]])
    (purelib,) = venv.glob("lib/python*/site-packages")
    dependencies = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (purelib / "neurodamus_test_dependencies.pth").write_text("\n".join(sorted(dependencies)))
    for library in Path(sys.prefix, "lib").iterdir():  # the mpich wheel's, found by prefix
        if not library.name.startswith("python"):
            (venv / "lib" / library.name).symlink_to(library)
    return venv


def test_installed_package_uses_its_own_files(fresh_venv, tmp_path):
    shown = json.loads(_run([fresh_venv / "bin" / "python", "-c", SHOW_INSTALL],
                            cwd=tmp_path).stdout)
    for key in ("file", "hoc", "mod"):
        assert Path(shown[key]).is_relative_to(fresh_venv), shown
        assert not Path(shown[key]).resolve().is_relative_to(REPOSITORY), shown
    assert Path(shown["hoc"], "NdExcCell.hoc").is_file()
    assert shown["version"] == shown["metadata"] == __version__


def test_installed_wheel_runs_a_circuit_on_two_ranks(fresh_venv, small_circuit, tmp_path,
                                                     mechanisms_library):
    """Templates come from the wheel (the circuit's copies removed); the mechanisms cache
    warmed by `mechanisms_library` is reused, since it is keyed by the mod files' content."""
    config = small_circuit(n_exc=3, n_inh=2, tstop=40.0)
    for template in (config.parent / "emodels").glob("*.hoc"):
        template.unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _run([MPIEXEC, "-n", 2, fresh_venv / "bin" / "neurodamus", config, "--output-path",
          elsewhere / "out"], cwd=elsewhere)
    spikes = read_spikes_by_population(elsewhere / "out" / "out.h5")
    assert spikes["exc"][0].size > 0
