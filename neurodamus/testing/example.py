"""The bundled example circuit (configs/example): regenerate with
`python -m neurodamus.testing.example [DIR]`.

Two biophysical populations (pyramidal `exc`, fast-spiking `inh`) with recurrent and
cross-population stochastic synapses, gap junctions between `inh` cells, minis on `exc`,
a virtual `thalamus` projecting onto `exc` whose Poisson spikes are replayed, a
connection override, node sets, and a simulation config of 1 s driven by linear current
clamps.
"""

import sys
from pathlib import Path

from .circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_poisson_spikes,
    write_simulation_config,
)

EXAMPLE_SPEC = CircuitSpec(
    populations=[
        PopulationSpec("exc", 40, "exc", threshold_current=0.25, mini_frequencies=(0.5, 0.5)),
        PopulationSpec("inh", 12, "inh", threshold_current=0.1),
        PopulationSpec("thalamus", 20, "virtual"),
    ],
    edges=[
        EdgeSpec("exc", "exc", per_target=10, conductance=1.0),
        EdgeSpec("exc", "inh", per_target=12, conductance=0.5),
        EdgeSpec("inh", "exc", per_target=8, conductance=0.5),
        EdgeSpec("inh", "inh", per_target=4, conductance=2.0),
        EdgeSpec("thalamus", "exc", per_target=6, conductance=1.0),
    ],
    gap_junctions=[GapJunctionSpec("inh", pairs=8, conductance=0.5)],
    node_sets={
        "exc_first_half": {"population": "exc", "node_id": list(range(20))},
        "exc_second_half": {"population": "exc", "node_id": list(range(20, 40))},
    },
    seed=7,
)

EXAMPLE_INPUTS = {
    "ramp_first_half": {
        "module": "linear", "input_type": "current_clamp", "node_set": "exc_first_half",
        "amp_start": 0.3, "amp_end": 0.5, "delay": 50.0, "duration": 900.0,
    },
    "step_second_half": {
        "module": "linear", "input_type": "current_clamp", "node_set": "exc_second_half",
        "amp_start": 0.3, "delay": 100.0, "duration": 850.0,
    },
    "inh_bias": {
        "module": "linear", "input_type": "current_clamp", "node_set": "inh",
        "amp_start": 0.005, "delay": 0.0, "duration": 1000.0,
    },
    "thalamic_replay": {
        "module": "synapse_replay", "input_type": "spikes", "node_set": "exc",
        "spike_file": "thalamus_spikes.h5", "delay": 0.0, "duration": 1000.0,
    },
}

EXAMPLE_OVERRIDES = [
    {"name": "stronger_inhibition", "source": "inh", "target": "exc", "weight": 1.5},
]


def build_example(directory) -> Path:
    """Write the example circuit and its simulation config; returns the simulation config path."""
    directory = Path(directory)
    circuit = build_circuit(directory, EXAMPLE_SPEC)
    write_poisson_spikes(directory / "thalamus_spikes.h5", "thalamus", range(20), rate=8.0,
                         tstop=1000.0, seed=7)
    return write_simulation_config(
        directory, circuit, tstop=1000.0, node_set="All", inputs=EXAMPLE_INPUTS,
        output_dir="output", extra={"connection_overrides": EXAMPLE_OVERRIDES})


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/example")
    print(build_example(target))
