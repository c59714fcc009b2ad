"""bmtk's config keys on a generated circuit in the bmtk layout: `enabled`, node sets in
the simulation config and written in place (objects and lists of bmtk gids), a
simulation_config.json without `network` (circuit_config.json beside it), IClamp trains
given as lists and bmtk's CSV clamp, netcon_report; unsupported modules are one error
naming the key."""

import json

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_neurodamus

from neurodamus.config import load_settings
from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.bmtk_layout import rewrite_in_bmtk_layout
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # runs neurodamus under mpiexec

# bmtk's gids: exc 0-5, inh 6-8 (circuit-config order)
SPEC = CircuitSpec(
    populations=[PopulationSpec("exc", 6, "exc", threshold_current=0.25),
                 PopulationSpec("inh", 3, "inh", threshold_current=0.1)],
    edges=[EdgeSpec("exc", "inh", per_target=3, conductance=0.5)], seed=5)
TSTOP = 120.0


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """The bmtk-layout directory (circuit_config.json beside simulation_config.json)."""
    base = tmp_path_factory.mktemp("bmtk_keys")
    circuit = build_circuit(base / "strict", SPEC)
    strict = write_simulation_config(base / "strict", circuit, tstop=TSTOP, random_seed=0)
    layout = rewrite_in_bmtk_layout(circuit, strict, base / "bmtk", virtual=set()).parent
    (layout / "base.json").write_text((layout / "simulation_config.json").read_text())
    return layout


def _simulation(layout, **changes) -> dict:
    raw = json.loads((layout / "base.json").read_text())
    raw.pop("network", None)
    raw.update(changes)
    return raw


def _write(layout, name, raw):
    path = layout / name
    path.write_text(json.dumps(raw))
    return path


TRAIN = {"input_type": "current_clamp", "module": "IClamp", "node_set": "exc_cells",
         "amp": [0.4, 0.6], "delay": [10.0, 70.0], "duration": [40.0, 30.0]}
STEPS = {f"step{i}": {"input_type": "current_clamp", "module": "IClamp",
                      "node_set": {"population": "exc"}, "amp": amp, "delay": delay,
                      "duration": duration}
         for i, (amp, delay, duration) in enumerate([(0.4, 10.0, 40.0), (0.6, 70.0, 30.0)])}
FLOOD = {"input_type": "current_clamp", "module": "IClamp", "node_set": "inh", "amp": 5.0,
         "delay": 0.0, "duration": TSTOP, "enabled": False}


def test_keys_read_as_bmtk_reads_them(layout, tmp_path):
    """A train as lists = the same steps written one by one; the disabled flood is left
    out; gid lists select bmtk's gids; the config names no network."""
    node_sets = {"exc_cells": {"population": "exc"}}
    reports = {"v_exc": {"module": "membrane_report", "variable_name": "v", "sections": "soma",
                         "cells": [1, 3], "file_name": "v_report.h5"},
               "v_inh": {"module": "membrane_report", "variable_name": "v", "sections": "soma",
                         "cells": [7, 6], "enabled": True},
               "off": {"module": "membrane_report", "variable_name": "v", "cells": [0],
                       "enabled": False}}
    lists = _write(layout, "simulation_config.json", _simulation(
        layout, node_sets=node_sets, inputs={"train": TRAIN, "flood": FLOOD}, reports=reports))
    steps = _write(layout, "steps.json", _simulation(layout, network="circuit_config.json",
                                                     inputs=STEPS))
    out = {}
    for name, config in (("lists", lists), ("steps", steps)):
        out[name] = tmp_path / name
        assert_ok(run_neurodamus([config, "--output-path", out[name], "--no-progress"]))
    lists_spikes = read_spikes_by_population(out["lists"] / "out.h5")
    steps_spikes = read_spikes_by_population(out["steps"] / "out.h5")
    times, ids = lists_spikes["exc"]
    assert times.size > 6 and set(ids.tolist()) == set(range(6))
    for population in steps_spikes:
        for a, b in zip(lists_spikes[population], steps_spikes[population]):
            np.testing.assert_array_equal(a, b)
    assert not (out["lists"] / "off.h5").exists()
    exc = libsonata.ElementReportReader(str(out["lists"] / "v_report.h5"))["exc"]
    inh = libsonata.ElementReportReader(str(out["lists"] / "v_inh.h5"))["inh"]
    assert exc.get_node_ids() == [1, 3] and inh.get_node_ids() == [0, 1]


def test_csv_clamp_is_played_as_bmtk_plays_it(layout, tmp_path):
    """Timestamps 30, 50, 70, 90 ms every 20 ms: refined to gcd(20, 30) = 10 ms, 3 zeros
    first, each amplitude twice; on until 90 ms (the last amplitude is 0)."""
    csv = layout / "clamp.csv"
    csv.write_text("timestamps amps\n30.0 0.3\n50.0 0.5\n70.0 0.2\n90.0 0.0\n")
    clamp = {"input_type": "csv", "module": "IClamp", "node_set": "exc", "file": "clamp.csv"}
    config = _write(layout, "csv.json", _simulation(layout, network="circuit_config.json",
                                                    inputs={"clamp": clamp}))
    settings = load_settings(config, cache_root=tmp_path / "cache")
    (entry,) = settings.inputs
    assert entry.parameters["played_amps"] == [0, 0, 0, .3, .3, .5, .5, .2, .2, 0, 0]
    assert entry.parameters["played_dt"] == 10.0
    assert (entry.delay, entry.duration) == (0.0, 90.0)
    csv.write_text("timestamps amps\n20.0 0.3\n40.0 0.1\n")  # first at dt: one zero first
    (entry,) = load_settings(config, cache_root=tmp_path / "cache2").inputs
    assert entry.parameters["played_amps"] == [0.0, 0.3, 0.1]
    assert (entry.parameters["played_dt"], entry.duration) == (20.0, 60.0)
    out = tmp_path / "run"
    assert_ok(run_neurodamus([config, "--output-path", out, "--no-progress"]))


@pytest.mark.parametrize("module", ["comsol", "ecephys_probe"])
def test_unsupported_input_modules_are_one_error(layout, tmp_path, module):
    entry = {"input_type": "current_clamp", "module": module, "node_set": "exc"}
    config = _write(layout, f"{module}.json", _simulation(
        layout, network="circuit_config.json", inputs={"odd": entry}))
    result = run_neurodamus([config, "--output-path", tmp_path / "out"], ranks=1)
    assert_one_error(result, "inputs.odd.module", module)


def test_spikes_of_nodes_beyond_the_population_are_skipped_once(layout, tmp_path):
    """bmtk skips them: the run equals one with those spikes left out of the file."""
    from neurodamus.reports import write_spikes

    times = np.array([5.0, 10.0, 12.0, 20.0, 30.0, 31.0])
    nodes = np.array([0, 99, 1, 2, 6, 3])  # exc has 6 nodes: 99 and 6 are beyond
    write_spikes(layout / "beyond.h5", {"exc": (times, nodes)})
    keep = nodes < 6
    write_spikes(layout / "within.h5", {"exc": (times[keep], nodes[keep])})
    results = {}
    for name in ("beyond", "within"):
        spikes = {"module": "h5", "input_type": "spikes", "input_file": f"{name}.h5",
                  "node_set": "exc"}
        config = _write(layout, f"{name}.json", _simulation(
            layout, network="circuit_config.json", inputs={"drive": spikes}))
        results[name] = run_neurodamus([config, "--output-path", tmp_path / name,
                                        "--no-progress"])
        assert_ok(results[name])
    said = [line for line in (results["beyond"].stdout + results["beyond"].stderr).splitlines()
            if "beyond their population" in line]
    assert len(said) == 1 and "2 of population 'exc' (6 nodes)" in said[0]
    a = read_spikes_by_population(tmp_path / "beyond" / "out.h5")
    b = read_spikes_by_population(tmp_path / "within" / "out.h5")
    assert sorted(a) == sorted(b)
    for population in a:
        for x, y in zip(a[population], b[population]):
            np.testing.assert_array_equal(x, y)
