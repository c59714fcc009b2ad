"""Circuit data read as the reference simulator reads it (issue 24): edge delays in whole
time steps, replay spikes of nodes the source population lacks skipped with one warning,
attribute node sets that select nothing on populations without the attribute."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ok, run_mpi_script

from neurodamus.reports.spikes import write_spikes
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec

PROBE = Path(__file__).parent / "scripts" / "probe_simulation.py"
DT = 0.025
SPIKE_AT = 20.0
# Edge delays as written (float32) and the steps the reference reads them as, by hand:
# 1.2374 / 0.025 = 49.496 -> 49 steps; float32(0.7) = 0.69999999 / 0.025 = 27.9999995,
# + 1e-5 -> 28 steps (plain truncation would give 27).
DELAYS = {"thalamus__exc__chemical": (1.2374, 49), "relay__exc__chemical": (0.7, 28)}


@pytest.fixture(scope="module")
def delay_circuit(tmp_path_factory):
    """Two virtual populations, one spike each at SPIKE_AT, through edges with fixed delays."""
    directory = tmp_path_factory.mktemp("delays")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 1, "exc"), PopulationSpec("thalamus", 2, "virtual"),
                     PopulationSpec("relay", 2, "virtual")],
        edges=[EdgeSpec("thalamus", "exc", 1, 0.5, delay=(1.2374, 1.2374)),
               EdgeSpec("relay", "exc", 1, 0.5, delay=(0.7, 0.7))], seed=4)
    circuit = build_circuit(directory, spec)
    inputs = {}
    for population in ("thalamus", "relay"):
        # node 5 is beyond the 2 nodes of the population: skipped (test_bad_circuit_data)
        write_spikes(directory / f"{population}.h5",
                     {population: (np.array([SPIKE_AT, SPIKE_AT, 30.0]), np.array([0, 1, 5]))},
                     "by_time")
        inputs[population] = {"module": "synapse_replay", "input_type": "spikes",
                              "node_set": "exc", "spike_file": f"{population}.h5",
                              "delay": 0.0, "duration": 50.0}
    return write_simulation_config(directory, circuit, tstop=30.0, dt=DT, inputs=inputs,
                                   node_set="exc")


def test_edge_delays_are_whole_steps_and_events_arrive_at_that_step(delay_circuit, tmp_path):
    output = tmp_path / "out"
    result = run_mpi_script(PROBE, [delay_circuit, output], ranks=1)
    assert_ok(result)
    probes = json.loads((output / "probes_rank0.json").read_text())
    assert len(probes["synapses"]) == 2
    for synapse in probes["synapses"]:
        _, steps = DELAYS[synapse["edge_population"]]
        assert synapse["delay"] == steps * DT
        received = probes["event_times"][f"{synapse['gid']}:{synapse['index']}"]
        assert received == [SPIKE_AT + steps * DT]



def test_attribute_node_set_selects_nothing_on_populations_without_the_attribute(delay_circuit,
                                                                                   tmp_path):
    """{"mtype": ...} reaches the virtual populations (no mtype) through an override: nothing
    is selected there, so only the compound set's explicit population counts."""
    raw = json.loads(delay_circuit.read_text())
    sets = delay_circuit.parent / "attribute_sets.json"
    sets.write_text(json.dumps({"pyr": {"mtype": "PYR"}, "thal": {"population": "thalamus"},
                                "inputs": ["pyr", "thal"]}))
    raw["node_sets_file"] = str(sets)
    raw["connection_overrides"] = [{"name": "silence", "source": "inputs", "target": "pyr",
                                    "weight": 0.0}]
    config = tmp_path / "simulation_config.json"
    raw["network"] = str((delay_circuit.parent / raw["network"]).resolve())
    for name in raw["inputs"]:
        raw["inputs"][name]["spike_file"] = str(delay_circuit.parent / f"{name}.h5")
    config.write_text(json.dumps(raw))
    output = tmp_path / "out"
    assert_ok(run_mpi_script(PROBE, [config, output], ranks=1))
    probes = json.loads((output / "probes_rank0.json").read_text())
    weights = {s["edge_population"]: s["weight"] for s in probes["synapses"]}
    assert weights["thalamus__exc__chemical"] == 0.0
    assert weights["relay__exc__chemical"] > 0.0
