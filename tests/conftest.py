"""Shared fixtures: the venv's tools, a runner for `mpiexec -n N neurodamus`, and small
generated circuits."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MPIEXEC = str(BIN / "mpiexec") if (BIN / "mpiexec").exists() else (shutil.which("mpiexec")
                                                                  or "mpiexec")

os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
_mpi_spawned = False  # whether the current test (setup included) started mpiexec


def run_neurodamus(args, ranks=1, timeout=300, cwd=None) -> subprocess.CompletedProcess:
    """`mpiexec -n ranks python -m neurodamus args...`, output captured, bounded in time."""
    command = [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "neurodamus", *map(str, args)]
    return _run_mpiexec(command, timeout, cwd)


def run_mpi_script(script, args=(), ranks=2, timeout=300) -> subprocess.CompletedProcess:
    command = [MPIEXEC, "-n", str(ranks), sys.executable, str(script), *map(str, args)]
    return _run_mpiexec(command, timeout)


def _run_mpiexec(command, timeout, cwd=None) -> subprocess.CompletedProcess:
    global _mpi_spawned
    _mpi_spawned = True
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    global _mpi_spawned
    _mpi_spawned = False
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """The `mpi` marker is kept true: a test that starts mpiexec (in its fixtures or its body)
    and is not marked fails, so `-m "not mpi"` really leaves MPI out."""
    result = yield
    if _mpi_spawned and item.get_closest_marker("mpi") is None:
        pytest.fail("this test runs mpiexec: mark it (or its module) with pytest.mark.mpi",
                    pytrace=False)
    return result


def assert_one_error(result: subprocess.CompletedProcess, *expected) -> str:
    """A failed run that printed exactly one `neurodamus: error:` line (one rank), with each of
    `expected` in the message and no traceback; returns the message."""
    assert result.returncode != 0, result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus: error:")]
    assert len(errors) == 1, result.stderr
    message = result.stderr[result.stderr.index("neurodamus: error:"):]
    for text in expected:
        assert str(text) in message, message
    assert "Traceback" not in result.stderr
    return message


def assert_ok(result: subprocess.CompletedProcess):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def mechanisms_library():
    """Our compiled mechanisms (built once, cached by content)."""
    from neurodamus.mechanisms import build_mechanisms, mechanism_sources
    return build_mechanisms(mechanism_sources())


@pytest.fixture(scope="module")
def h(mechanisms_library):
    """NEURON's h with our mechanisms and stdrun loaded (the in-process stimulus tests; unit
    tests that need a different setup define their own)."""
    from neuron import h

    from neurodamus.mechanisms import load_mechanisms
    load_mechanisms(h, mechanisms_library)
    h.load_file("stdrun.hoc")
    return h


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory):
    """A fresh copy of the bundled example circuit."""
    target = tmp_path_factory.mktemp("example") / "example"
    shutil.copytree(REPOSITORY / "configs" / "example", target,
                    ignore=shutil.ignore_patterns("output"))
    return target


@pytest.fixture
def small_circuit(tmp_path):
    """Factory: a small generated circuit and its simulation config (returns the config path)."""
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )

    def make(n_exc=4, n_inh=2, tstop=50.0, inputs=None, node_set="All", seed=3, **config):
        directory = tmp_path / f"circuit_{n_exc}_{n_inh}_{seed}"
        spec = CircuitSpec(
            populations=[PopulationSpec("exc", n_exc, "exc"), PopulationSpec("inh", n_inh, "inh")],
            edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
                   EdgeSpec("inh", "exc", 2, 1.0)],
            seed=seed)
        circuit = build_circuit(directory, spec)
        if inputs is None:
            inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                               "amp_start": 0.4, "delay": 5.0, "duration": tstop}}
        return write_simulation_config(directory, circuit, tstop=tstop, inputs=inputs,
                                       node_set=node_set, **config)
    return make
