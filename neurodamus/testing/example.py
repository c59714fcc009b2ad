"""The bundled example circuit (configs/example): regenerate with
`python -m neurodamus.testing.example [DIR]`.

A small cortical network as a textbook draws one: pyramidal cells (`exc`) and fast-spiking
basket cells (`inh`), recurrently connected by stochastic Tsodyks-Markram synapses, gap
junctions among the basket cells, minis on the pyramidal cells, a virtual `thalamus` whose
spikes (Poisson, at a rate that wanders) are replayed onto both populations, and a
fluctuating background (shot noise: Poisson trains of slow current pulses, independent per
cell) that stands for the rest of the brain. The background's mean alone makes the cells fire
rarely or not at all, so they fire on its fluctuations: irregularly, as cortex does, and
with no population falling into the depolarisation block that a strong constant drive of the
small basket cells causes (the old example's inhibition died so after 200 ms).
A connection override strengthens inhibition onto the pyramidal cells; a soma voltage report
of a few cells and a summation report of their synaptic currents give `neurodamus plot`
traces to draw. Every number that shapes the activity is a field of `ExampleParameters`;
`build_example` also writes them, with what they mean, into the example's README.md.
"""

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..reports.spikes import write_spikes
from .circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    GapJunctionSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)


def _param(default, doc: str):
    """A parameter with what it means (written into the example's README.md)."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class ExampleParameters:
    """What shapes the example's activity (conductances in nS, rates in Hz, times in ms).
    Found by sweeping them on 1 rank; see the README.md the generator writes."""

    tstop: float = _param(1000.0, "simulated time (ms)")
    exc_cells: int = _param(40, "pyramidal cells `exc` (NdExcCell: Hodgkin-Huxley soma and "
                                "axon, passive dendrites)")
    inh_cells: int = _param(12, "fast-spiking basket cells `inh` (NdFsCell: Wang-Buzsaki "
                                "soma, passive dendrites)")
    thalamic_cells: int = _param(20, "virtual `thalamus` cells whose spikes are replayed")
    exc_threshold_current: float = _param(0.25, "nA; what the exc background's percentages "
                                                "refer to")
    inh_threshold_current: float = _param(0.1, "nA; the same for inh")
    exc_minis: float = _param(0.5, "Hz of spontaneous release at each synapse onto exc "
                                   "(exc- and inh-mini_frequency)")
    exc_exc_synapses: int = _param(10, "synapses per exc cell from random exc cells")
    exc_exc_conductance: float = _param(2.0, "nS, mean peak conductance (each synapse drawn "
                                             "uniformly in 0.5-1.5 times it)")
    exc_inh_synapses: int = _param(12, "synapses per inh cell from random exc cells")
    exc_inh_conductance: float = _param(0.5, "nS")
    inh_exc_synapses: int = _param(8, "synapses per exc cell from random inh cells")
    inh_exc_conductance: float = _param(1.0, "nS, before the connection override")
    inh_inh_synapses: int = _param(4, "synapses per inh cell from other inh cells")
    inh_inh_conductance: float = _param(2.0, "nS")
    thalamic_rate: float = _param(8.0, "Hz, mean rate of each thalamic cell")
    thalamic_modulation: float = _param(1.0, "standard deviation of the log of the rate that "
                                             "all thalamic cells share (0: plain Poisson)")
    thalamic_modulation_time: float = _param(50.0, "ms, correlation time of that shared rate")
    thalamus_exc_synapses: int = _param(6, "synapses per exc cell from random thalamic cells")
    thalamus_exc_conductance: float = _param(1.0, "nS")
    thalamus_inh_synapses: int = _param(6, "synapses per inh cell from random thalamic cells "
                                           "(feed-forward inhibition)")
    thalamus_inh_conductance: float = _param(2.0, "nS")
    gap_junction_pairs: int = _param(16, "random soma-to-soma gap junctions among inh cells "
                                         "(a repeated pair adds conductance)")
    gap_junction_conductance: float = _param(2.0, "nS per junction")
    inhibition_override_weight: float = _param(1.5, "connection override `stronger_inhibition`"
                                                    ": weight of every inh -> exc synapse")
    exc_background_mean: float = _param(40.0, "background shot noise onto each exc cell: "
                                              "mean, percent of its threshold current")
    exc_background_sd: float = _param(50.0, "its standard deviation, percent of the same")
    inh_background_mean: float = _param(10.0, "the same onto each inh cell: mean, percent")
    inh_background_sd: float = _param(15.0, "standard deviation, percent")
    background_rise: float = _param(2.0, "ms, rise time of each shot of the background")
    background_decay: float = _param(40.0, "ms, decay time of each shot (slow, so that the "
                                           "cells have quiet and busy spells)")
    traced_exc: int = _param(3, "exc cells (node ids 0, 1, ...) in the two reports")
    traced_inh: int = _param(3, "inh cells in the two reports")
    seed: int = _param(7, "seed of everything the generator draws (morphologies, positions, "
                          "connections, thalamic spikes)")


PARAMETERS = ExampleParameters()


def example_spec(p: ExampleParameters = PARAMETERS) -> CircuitSpec:
    return CircuitSpec(
        populations=[
            PopulationSpec("exc", p.exc_cells, "exc", threshold_current=p.exc_threshold_current,
                           mini_frequencies=(p.exc_minis, p.exc_minis)),
            PopulationSpec("inh", p.inh_cells, "inh", threshold_current=p.inh_threshold_current),
            PopulationSpec("thalamus", p.thalamic_cells, "virtual"),
        ],
        edges=[
            EdgeSpec("exc", "exc", p.exc_exc_synapses, p.exc_exc_conductance),
            EdgeSpec("exc", "inh", p.exc_inh_synapses, p.exc_inh_conductance),
            EdgeSpec("inh", "exc", p.inh_exc_synapses, p.inh_exc_conductance),
            EdgeSpec("inh", "inh", p.inh_inh_synapses, p.inh_inh_conductance),
            EdgeSpec("thalamus", "exc", p.thalamus_exc_synapses, p.thalamus_exc_conductance),
            EdgeSpec("thalamus", "inh", p.thalamus_inh_synapses, p.thalamus_inh_conductance),
        ],
        gap_junctions=[GapJunctionSpec("inh", p.gap_junction_pairs, p.gap_junction_conductance)],
        node_sets={
            "exc_traced": {"population": "exc", "node_id": list(range(p.traced_exc))},
            "inh_traced": {"population": "inh", "node_id": list(range(p.traced_inh))},
            "traced": ["exc_traced", "inh_traced"],
        },
        seed=p.seed,
    )


def _background(node_set: str, mean: float, sd: float, p: ExampleParameters) -> dict:
    return {"module": "relative_shot_noise", "input_type": "current_clamp", "node_set": node_set,
            "mean_percent": mean, "sd_percent": sd, "rise_time": p.background_rise,
            "decay_time": p.background_decay, "delay": 0.0, "duration": p.tstop}


def example_inputs(p: ExampleParameters = PARAMETERS) -> dict:
    return {
        "background_exc": _background("exc", p.exc_background_mean, p.exc_background_sd, p),
        "background_inh": _background("inh", p.inh_background_mean, p.inh_background_sd, p),
        "thalamic_replay": {
            "module": "synapse_replay", "input_type": "spikes", "node_set": "All",
            "spike_file": "thalamus_spikes.h5", "delay": 0.0, "duration": p.tstop,
        },
    }


def example_reports(p: ExampleParameters = PARAMETERS) -> dict:
    window = {"start_time": 0.0, "end_time": p.tstop}
    return {  # dt 0.1 ms shows the spikes' peaks; the currents need less (and cost more)
        "soma_v": {"type": "compartment", "cells": "traced", "sections": "soma",
                   "variable_name": "v", "dt": 0.1, **window},
        "synaptic_current": {"type": "summation", "cells": "traced", "sections": "soma",
                             "variable_name": "NdTmExc,NdTmInh", "dt": 0.5, **window},
    }


def example_overrides(p: ExampleParameters = PARAMETERS) -> list:
    return [{"name": "stronger_inhibition", "source": "inh", "target": "exc",
             "weight": p.inhibition_override_weight}]


def build_example(directory, parameters: ExampleParameters = PARAMETERS) -> Path:
    """Write the example circuit, its simulation config and its README.md; returns the
    simulation config path."""
    p, directory = parameters, Path(directory)
    circuit = build_circuit(directory, example_spec(p))
    write_thalamic_spikes(directory / "thalamus_spikes.h5", p)
    (directory / "README.md").write_text(readme(p))
    return write_simulation_config(
        directory, circuit, tstop=p.tstop, node_set="All", inputs=example_inputs(p),
        reports=example_reports(p), output_dir="output",
        extra={"connection_overrides": example_overrides(p)})


def thalamic_rate(p: ExampleParameters, rng, step: float = 1.0) -> np.ndarray:
    """The rate (Hz) every thalamic cell shares, one value per `step` ms: a log-normal
    process (the exponential of an Ornstein-Uhlenbeck process) with mean `thalamic_rate`,
    so that the thalamus has quiet and busy spells, as in vivo, instead of a flat rate."""
    count = int(np.ceil(p.tstop / step))
    decay = np.exp(-step / p.thalamic_modulation_time)
    kicks = rng.normal(0.0, np.sqrt(1 - decay**2), count)
    z = np.empty(count)
    z[0] = rng.normal()
    for i in range(1, count):
        z[i] = decay * z[i - 1] + kicks[i]
    sigma = p.thalamic_modulation
    return p.thalamic_rate * np.exp(sigma * z - sigma**2 / 2)  # E[exp(sZ)] = exp(s^2 / 2)


def write_thalamic_spikes(path: Path, p: ExampleParameters) -> Path:
    """Inhomogeneous Poisson trains of the shared thalamic rate (independent per cell, by
    thinning), for the synapse_replay input."""
    rng = np.random.default_rng(p.seed)
    step = 1.0
    rate = thalamic_rate(p, rng, step)
    peak = rate.max()
    times, ids = [], []
    for node_id in range(p.thalamic_cells):
        candidates = np.sort(rng.uniform(0, p.tstop, rng.poisson(peak * p.tstop / 1000.0)))
        keep = rng.random(candidates.size) < rate[(candidates // step).astype(int)] / peak
        times.append(np.round(candidates[keep], 3))
        ids.append(np.full(int(keep.sum()), node_id))
    write_spikes(path, {"thalamus": (np.concatenate(times), np.concatenate(ids))}, "by_time")
    return path


def readme(p: ExampleParameters) -> str:
    rows = "\n".join(f"| `{f.name}` | {getattr(p, f.name)} | {f.metadata['doc']} |"
                     for f in fields(p))
    return README.format(rows=rows, **{f.name: getattr(p, f.name) for f in fields(p)})


README = """# The bundled example circuit

Written by `python -m neurodamus.testing.example configs/example` from the parameters in
`neurodamus/testing/example.py` (do not edit these files by hand: a test regenerates them and
compares). `ci/example` runs it on 2 MPI ranks, prints each population's activity figures
and draws three pictures into `configs/example/output/plots/`.

## What it is

A small cortical network as a textbook draws one: {exc_cells} pyramidal cells (`exc`) and
{inh_cells} fast-spiking basket cells (`inh`), connected within and across the populations
by stochastic, depressing Tsodyks-Markram synapses, with gap junctions among the basket
cells and minis on the pyramidal cells. Their input varies in time:

- `thalamic_replay` (`synapse_replay` of `thalamus_spikes.h5`): {thalamic_cells} virtual
  thalamic cells fire Poisson trains whose rate, shared by all of them, wanders around
  {thalamic_rate} Hz (a log-normal process with correlation time {thalamic_modulation_time}
  ms), onto both populations (feed-forward excitation and inhibition).
- `background_exc`, `background_inh` (`relative_shot_noise`): independent per cell, Poisson
  trains of slow current pulses standing for the rest of the cortex. Their mean alone makes
  the cells fire rarely or not at all, so the cells fire on the fluctuations: irregularly, as
  cortex does, and the basket cells never receive the strong constant drive that puts their
  small somata into depolarisation block.

A connection override (`stronger_inhibition`) scales every inh -> exc synapse by
{inhibition_override_weight}. Two reports record the `traced` node set ({traced_exc} exc and
{traced_inh} inh cells): `soma_v`, a compartment report of the soma voltage (every 0.1 ms),
and `synaptic_current`, a summation report of the synaptic currents (NdTmExc + NdTmInh) over
the whole cell (every 0.5 ms; inward, excitatory currents are negative).

## What it shows

The excitatory cells fire at a few Hz and the inhibitory cells several times faster, both
for the whole run, with irregular intervals (a coefficient of variation near 1); the
inhibitory cells coupled by gap junctions fire together more often than uncoupled pairs. The
tests in `tests/integration/test_example_circuit.py` fail if a population falls silent for
more than 100 ms, if the excitatory firing becomes clock-like (CV below 0.5) or if the
inhibitory cells are not the faster ones. The pictures: `raster.png` (every spike, one row per
cell), `rates.png` (rate per cell of each population in 10 ms bins), `traces_soma_v.png` (soma
voltage of the traced cells; `neurodamus plot OUTPUT --report synaptic_current` draws the
currents).

## Parameters

Conductances in nS, rates in Hz, times in ms. To try others, build a copy elsewhere:
`python -c "from dataclasses import replace; from neurodamus.testing.example import *;
build_example('/tmp/ex', replace(PARAMETERS, inh_background_mean=20))"`.

| parameter | value | meaning |
|---|---|---|
{rows}
"""


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/example")
    print(build_example(target))
