"""A cell of our excitatory template under a step current, run by neurodamus, against the
same cell built by hand in plain NEURON: same morphology file, channels, discretisation,
stimulus and time step, so the spike times must agree to round-off (1e-9 ms)."""

import h5py
import numpy as np
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
