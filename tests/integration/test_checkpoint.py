"""Save and restore, and faults, under real MPI ranks."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import libsonata
import numpy as np
import pytest
from conftest import MPIEXEC, assert_ok, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_poisson_spikes,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

TSTOP = 200.0


def build(directory, n_exc=10, tstop=TSTOP):
    """Stochastic synapses, minis, gap junctions, replay, noise and shot-noise inputs, a
    delayed override and a ramp."""
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", n_exc, "exc", mini_frequencies=(1.0, 1.0)),
                     PopulationSpec("inh", 4, "inh"), PopulationSpec("thalamus", 6, "virtual")],
        edges=[EdgeSpec("exc", "exc", 5, 1.5), EdgeSpec("exc", "inh", 6, 1.0),
               EdgeSpec("inh", "exc", 4, 1.0), EdgeSpec("thalamus", "exc", 4, 2.0)],
        gap_junctions=[GapJunctionSpec("inh", pairs=3, conductance=1.0)], seed=21)
    circuit = build_circuit(directory, spec)
    write_poisson_spikes(directory / "thalamus.h5", "thalamus", range(6), rate=30.0, tstop=tstop)
    inputs = {"ramp": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.3, "amp_end": 0.4, "delay": 10.0, "duration": tstop - 20,
                       "represents_physical_electrode": True},
              "replay": {"module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
                         "spike_file": "thalamus.h5", "delay": 0.0, "duration": tstop},
              "noise": {"module": "noise", "input_type": "current_clamp", "node_set": "inh",
                        "mean": 0.05, "variance": 0.002, "delay": 0.0, "duration": tstop},
              "shots": {"module": "shot_noise", "input_type": "conductance", "node_set": "exc",
                        "rise_time": 0.5, "decay_time": 5.0, "rate": 200.0, "amp_mean": 0.002,
                        "amp_var": 1e-6, "reversal": 0.0, "delay": 0.0, "duration": tstop}}
    overrides = [{"name": "early", "source": "exc", "target": "exc", "weight": 1.5, "delay": 60.0,
                  "synapse_configure": "%s.Use = 0.7"},
                 {"name": "late", "source": "exc", "target": "inh", "weight": 1.5, "delay": 150.0}]
    reports = {"soma_v": {"type": "compartment", "variable_name": "v", "sections": "soma",
                          "start_time": 0.0, "end_time": tstop, "dt": 0.5},
               "currents": {"type": "summation", "variable_name": "i_membrane",
                            "sections": "all", "start_time": 20.0, "end_time": tstop, "dt": 1.0}}
    return write_simulation_config(directory, circuit, tstop=tstop, inputs=inputs, node_set="All",
                                   reports=reports, extra={"connection_overrides": overrides})


def spikes(directory):
    return read_spikes_by_population(directory / "out.h5")


def assert_same_spikes(a, b):
    """Same cells spiking in the same order at bit-equal times. The checkpoint holds
    BBSaveState's binary buffers, so a restored run continues from exactly the saved doubles;
    any loss there (BBSaveState's text files print %22.15g, 15 significant digits) starts the
    network ~1e-16 off, which it amplifies into spikes whole steps apart."""
    assert sorted(a) == sorted(b)
    for population in a:
        np.testing.assert_array_equal(a[population][1], b[population][1])
        np.testing.assert_array_equal(a[population][0], b[population][0])


def assert_same_report(expected_path, actual_path):
    expected, actual = (libsonata.ElementReportReader(str(p)) for p in (expected_path, actual_path))
    for population in expected.get_population_names():
        a, b = expected[population].get(), actual[population].get()
        assert actual[population].times == expected[population].times
        np.testing.assert_array_equal(np.asarray(b.ids), np.asarray(a.ids))
        assert np.asarray(a.data).shape[0] > 10
        # float32 values (bit-equal in practice: the restore is exact)
        np.testing.assert_allclose(np.asarray(b.data), np.asarray(a.data), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    directory = tmp_path_factory.mktemp("checkpoint")
    config = build(directory)
    assert_ok(run_neurodamus([config, "--output-path", directory / "full", "--no-progress"], ranks=2))
    return config


@pytest.mark.parametrize("restore_ranks", [1, 2])
def test_save_on_two_ranks_restore_gives_the_uninterrupted_spikes(circuit, tmp_path, restore_ranks):
    saved = tmp_path / "saved"
    assert_ok(run_neurodamus([circuit, "--output-path", tmp_path / "first", "--save", saved,
                              "--save-time", TSTOP / 2, "--no-progress"], ranks=2))
    manifest = json.loads((saved / (saved / "LATEST").read_text().strip() / "manifest.json").read_text())
    assert manifest["time"] == pytest.approx(TSTOP / 2) and manifest["ranks"] == 2
    first = spikes(tmp_path / "first")
    assert all(t.max() <= TSTOP / 2 for t, _ in first.values() if t.size)
    assert_ok(run_neurodamus([circuit, "--output-path", tmp_path / "rest", "--restore", saved,
                              "--no-progress"], ranks=restore_ranks))
    full, rest = spikes(circuit.parent / "full"), spikes(tmp_path / "rest")
    assert sum((t > TSTOP / 2).sum() for t, _ in full.values()) > 10  # activity after the save
    assert_same_spikes(full, rest)
    for report in ("soma_v", "currents"):  # reports continue: frames before and after the save
        assert_same_report(circuit.parent / "full" / f"{report}.h5", tmp_path / "rest" / f"{report}.h5")


def test_periodic_checkpoint_keeps_only_the_newest(circuit, tmp_path):
    saved = tmp_path / "periodic"
    assert_ok(run_neurodamus([circuit, "--output-path", tmp_path / "out", "--save", saved,
                              "--checkpoint-every", 50, "--no-progress"], ranks=2))
    assert sorted(p.name for p in saved.iterdir()) == ["LATEST", "checkpoint-t200.000"]


def test_killed_during_save_leaves_previous_checkpoint_usable(circuit, tmp_path):
    saved = tmp_path / "saved"
    env = dict(os.environ, NEURODAMUS_FAULT="kill-in-save:1:2")  # rank 1 dies in the 2nd save
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(circuit),
                             "--output-path", str(tmp_path / "killed"), "--save", str(saved),
                             "--checkpoint-every", "50", "--no-progress"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert not (tmp_path / "killed" / "out.h5").exists()
    assert (saved / "LATEST").read_text().strip() == "checkpoint-t50.000"
    assert_ok(run_neurodamus([circuit, "--output-path", tmp_path / "rest", "--restore", saved,
                              "--no-progress"], ranks=1))
    assert_same_spikes(spikes(circuit.parent / "full"), spikes(tmp_path / "rest"))


def test_restore_into_modified_circuit_is_refused(circuit, tmp_path):
    saved = tmp_path / "saved"
    assert_ok(run_neurodamus([circuit, "--output-path", tmp_path / "first", "--save", saved,
                              "--save-time", 50, "--no-progress"], ranks=2))
    other = build(tmp_path / "bigger", n_exc=12)
    result = run_neurodamus([other, "--output-path", tmp_path / "x", "--restore", saved,
                             "--no-progress"], ranks=2, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("neurodamus: error:") == 1
    assert "made for another simulation" in result.stderr and "population_sizes" in result.stderr
    raw = json.loads(circuit.read_text())
    raw["node_set"] = "exc"
    narrowed = circuit.parent / "narrowed.json"
    narrowed.write_text(json.dumps(raw))
    result = run_neurodamus([narrowed, "--output-path", tmp_path / "y", "--restore", saved,
                             "--no-progress"], ranks=1, timeout=120)
    assert result.returncode == 1 and "node_set: checkpoint has 'All', this run has 'exc'" in result.stderr
    # A mod file whose code changed since the save (BBSaveState would abort reading it).
    manifest_path = saved / (saved / "LATEST").read_text().strip() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["mechanisms"]["NdTmExc.mod"] and len(manifest["mechanisms"]) > 3
    manifest["mechanisms"]["NdTmExc.mod"] = "0" * 16
    manifest_path.write_text(json.dumps(manifest))
    result = run_neurodamus([circuit, "--output-path", tmp_path / "z", "--restore", saved,
                             "--no-progress"], ranks=1, timeout=120)
    assert result.returncode == 1 and result.stderr.count("neurodamus: error:") == 1
    assert "saved with other code in NdTmExc.mod" in result.stderr


def _start_long_run(config, output, extra=(), env=None):
    raw = json.loads(config.read_text())
    raw["run"]["tstop"] = 100000.0
    long_config = config.parent / "long.json"
    long_config.write_text(json.dumps(raw))
    return subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(long_config),
                             "--output-path", str(output), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _wait_for_progress(process):
    for line in process.stdout:
        if line.strip().startswith("t = "):
            return
    raise AssertionError("the run ended before showing progress")


def _rank_pids(mpiexec_pid):
    out = subprocess.run(["pgrep", "-f", "-a", "neurodamus"], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()
            if "long.json" in line and "mpiexec" not in line and "hydra" not in line]


def test_killed_rank_ends_all_ranks(circuit, tmp_path):
    process = _start_long_run(circuit, tmp_path / "out")
    _wait_for_progress(process)
    ranks = _rank_pids(process.pid)
    assert len(ranks) == 2
    started = time.monotonic()
    os.kill(ranks[-1], signal.SIGKILL)
    process.communicate(timeout=30)
    assert time.monotonic() - started < 30
    assert process.returncode != 0
    assert not any(p.exists() for p in map(Path, [f"/proc/{pid}" for pid in ranks]))
    assert not (tmp_path / "out" / "out.h5").exists()


def test_error_on_one_rank_ends_all_ranks(circuit, tmp_path):
    env = dict(os.environ, NEURODAMUS_FAULT="raise-in-run:1")
    process = _start_long_run(circuit, tmp_path / "out", env=env)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "injected fault" in output and "internal error on rank 1" in output
    assert not (tmp_path / "out" / "out.h5").exists()


def test_sigterm_saves_and_stops_cleanly(circuit, tmp_path):
    saved = tmp_path / "saved"
    process = _start_long_run(circuit, tmp_path / "out",
                              extra=["--save", saved, "--checkpoint-on-term"])
    _wait_for_progress(process)
    process.send_signal(signal.SIGTERM)  # mpiexec forwards it to every rank
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "stopped on SIGTERM" in output
    checkpoint = saved / (saved / "LATEST").read_text().strip()
    assert json.loads((checkpoint / "manifest.json").read_text())["time"] > 0
    assert not (tmp_path / "out" / "out.h5").exists()  # the run did not finish
