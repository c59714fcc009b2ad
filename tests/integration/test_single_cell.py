"""A cell of our excitatory template under a step current, run by neurodamus, against the
same cell built by hand in plain NEURON: same morphology file, channels, discretisation,
stimulus and time step, so the spike times must agree to round-off (1e-9 ms)."""

import h5py
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.reports import read_spikes_by_population
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

TSTOP, DELAY, DURATION, AMP, DT = 200.0, 20.0, 150.0, 0.4, 0.025
CELSIUS, V_INIT, THRESHOLD = 6.3, -65.0, -20.0


def hand_built_spikes(morphology_path) -> np.ndarray:
    """The NdExcCell recipe written out again with plain NEURON calls."""
    from neuron import h

    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(str(morphology_path))
    existing = set(h.allsec())  # by identity: an earlier test may have left same-named sections
    h.Import3d_GUI(reader, 0).instantiate(None)
    sections = [s for s in h.allsec() if s not in existing]
    soma = next(s for s in sections if s.name().startswith("soma"))
    for section in sections:
        section.nseg = 1 + 2 * int(section.L / 40)
        section.Ra, section.cm = 100, 1
        if section.name().startswith(("soma", "axon")):
            section.insert("hh")
        else:
            section.insert("pas")
            for segment in section:
                segment.pas.g, segment.pas.e = 1e-4, -65
    clamp = h.IClamp(soma(0.5))
    clamp.delay, clamp.dur, clamp.amp = DELAY, DURATION, AMP
    detector = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
    detector.threshold = THRESHOLD
    times = h.Vector()
    detector.record(times)
    h.celsius, h.dt = CELSIUS, DT
    h.finitialize(V_INIT)
    h.continuerun(TSTOP)
    return np.array(times)


@pytest.mark.mpi
def test_template_cell_spikes_like_hand_built_cell(tmp_path):
    spec = CircuitSpec(populations=[PopulationSpec("exc", 1, "exc")], seed=11)
    circuit = build_circuit(tmp_path, spec)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": AMP, "delay": DELAY, "duration": DURATION}}
    config = write_simulation_config(tmp_path, circuit, tstop=TSTOP, dt=DT, inputs=inputs,
                                     celsius=CELSIUS, v_init=V_INIT)
    assert_ok(run_neurodamus([config, "--no-progress"], ranks=1))
    times, _ = read_spikes_by_population(tmp_path / "output" / "out.h5")["exc"]

    with h5py.File(tmp_path / "nodes.h5") as f:
        name = f["nodes/exc/0/morphology"][0].decode()
    morphology = tmp_path / "morphologies" / f"{name}.swc"
    expected = hand_built_spikes(morphology)

    assert expected.size >= 5  # a spike train, not a single spike
    assert times.size == expected.size
    np.testing.assert_allclose(times, expected, rtol=0, atol=1e-9)


def test_fast_spiking_soma_stays_between_its_reversal_potentials(h, tmp_path):
    """NdFsCell under strong steps at the usual dt: its membrane never leaves [E_K, E_Na]
    (-90, 55 mV), as no sum of its currents can drive it there. Before the ndwb mechanism
    declared its conductances, NEURON's numerical di/dv of the instantaneous Na activation
    was more negative than -cm/dt near threshold and a step jumped to +200 mV or more."""
    from neurodamus.resources import hoc_dir
    from neurodamus.testing.morphologies import write_interneuron

    h.load_file("stdrun.hoc")
    h.load_file(str(hoc_dir() / "NdFsCell.hoc"))
    extremes = []
    for seed in range(3):
        write_interneuron(tmp_path / f"fs_{seed}.swc", np.random.default_rng(seed))
        cell = h.NdFsCell(0, str(tmp_path), f"fs_{seed}.swc")
        soma = cell.soma[0]
        for amplitude in (0.25, 0.4, 0.8, 1.5):
            stim = h.IClamp(soma(0.5))
            stim.delay, stim.dur, stim.amp = 2.0, 40.0, amplitude
            voltage = h.Vector().record(soma(0.5)._ref_v)
            h.dt, h.steps_per_ms = 0.025, 40.0
            h.finitialize(-65)
            h.continuerun(45)
            extremes.append((float(voltage.min()), float(voltage.max())))
            del stim
    assert min(low for low, _ in extremes) > -90.0 - 0.5, extremes
    assert max(high for _, high in extremes) < 55.0, extremes
    assert max(high for _, high in extremes) > 0.0, extremes  # it did fire
