"""The same network in plain NEURON (serial, built-in mechanisms only), to compare spike counts.

* IntFire1 neurons are NEURON's IntFire1 (tau, refrac; threshold 1), weights as in the circuit.
* A LIF with a synaptic time constant has no exact built-in: IntFire2 requires taus > taum
  and has no refractory period or reset level. So it is built from a one-compartment section
  whose voltage is the dimensionless u: `pas` with e_pas = 0 and g_pas = cm / tau_mem gives the
  membrane, an IClamp the bias, an ExpSyn (tau = tau_syn) with its reversal potential 1e9
  units away the synaptic current (it acts as a current source: the error is u / 1e9), and
  an SEClamp that holds u at `reset` for the refractory period after each threshold crossing.
  The section uses NEURON's fixed step, the simulation config's `run.dt`.
* Edges keep their delays (1 ms where the circuit gives none); replayed input spikes arrive
  after the delays of their edges. Neither MPI nor mod files are used.
"""

import math
import os

import numpy as np

from .network import PointNetwork

SYNAPSE_REVERSAL = 1e9                     # in units: far enough for a current source
AREA_UM2 = 100.0                           # any area: only ratios of currents matter
CLAMP_RESISTANCE_MOHM = 1e-3


class _LifCell:
    """A dimensionless LIF made from a section, pas, IClamp, ExpSyn and SEClamp."""

    def __init__(self, h, tau_mem, tau_syn, threshold, bias, reset, t_ref):
        self.h, self.t_ref = h, t_ref
        self.section = section = h.Section(name="lif")
        section.L = section.diam = math.sqrt(AREA_UM2 / math.pi)
        section.cm = 1.0
        section.insert("pas")
        section.g_pas = 1e-3 / tau_mem                 # S/cm2: tau = cm / g
        section.e_pas = 0.0
        self.conductance_uS = section.g_pas * AREA_UM2 * 1e-8 * 1e6
        self.bias = h.IClamp(section(0.5))
        self.bias.dur, self.bias.amp = 1e9, bias * self.conductance_uS   # nA = uS x mV
        self.receiver = h.ExpSyn(section(0.5))
        self.receiver.tau, self.receiver.e = tau_syn, SYNAPSE_REVERSAL
        self.clamp = h.SEClamp(section(0.5))
        self.clamp.rs, self.clamp.amp1, self.clamp.dur1 = CLAMP_RESISTANCE_MOHM, reset, 0.0
        self.spikes: list[float] = []
        self.detector = h.NetCon(section(0.5)._ref_v, None, sec=section)
        self.detector.threshold = threshold
        self.detector.record(self._on_spike)

    def _on_spike(self):
        self.spikes.append(self.h.t)
        self.clamp.dur1 = self.h.t + self.t_ref

    def restart(self):
        self.spikes.clear()
        self.clamp.dur1 = 0.0

    def netcon_to(self, receiver):
        netcon = self.h.NetCon(self.section(0.5)._ref_v, receiver, sec=self.section)
        netcon.threshold = self.detector.threshold
        return netcon

    def weight(self, w: float) -> float:
        """Synaptic drive jump w as the ExpSyn conductance that injects w·g_pas current."""
        return w * self.conductance_uS / SYNAPSE_REVERSAL

    def times(self) -> np.ndarray:
        return np.array(self.spikes, dtype=float)


class _IntFire1Cell:
    def __init__(self, h, tau_mem, t_ref):
        self.receiver = h.IntFire1()
        self.receiver.tau, self.receiver.refrac = tau_mem, t_ref
        self.h, self.recorded = h, h.Vector()
        self.recorder = h.NetCon(self.receiver, None)
        self.recorder.record(self.recorded)

    def restart(self):
        pass

    def netcon_to(self, receiver):
        return self.h.NetCon(self.receiver, receiver)

    def weight(self, w: float) -> float:
        return w

    def times(self) -> np.ndarray:
        return np.array(self.recorded, dtype=float)


def simulate_neuron(network: PointNetwork, input_spikes, duration_ms: float,
                    dt_ms: float) -> np.ndarray:
    """Spike count per neuron of the circuit run in NEURON for `duration_ms`."""
    return np.array([len(t) for t in neuron_spike_times(network, input_spikes, duration_ms,
                                                        dt_ms)], dtype=np.int64)


def neuron_spike_times(network: PointNetwork, input_spikes, duration_ms: float,
                       dt_ms: float) -> list:
    """Spike times (ms) per neuron of the circuit run in NEURON for `duration_ms`."""
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")   # no "no DISPLAY" warning
    from neuron import h  # only here: an export without --simulate needs no NEURON

    h.load_file("stdrun.hoc")
    p = network.params
    cells = [
        _IntFire1Cell(h, p.tau_mem_ms[i], p.t_ref_ms[i]) if network.kind[i] == "IntFire1" else
        _LifCell(h, p.tau_mem_ms[i], p.tau_syn_ms[i], p.threshold[i], p.bias[i], p.reset[i],
                 p.t_ref_ms[i])
        for i in range(network.n_neurons)]
    netcons, events = [], []
    for s, from_input, t, w, d in zip(network.edge_source, network.edge_from_input,
                                      network.edge_target, network.edge_weight,
                                      network.edge_delay_ms):
        target = cells[t]
        if from_input:
            netcon = h.NetCon(None, target.receiver)
            events += [(netcon, time + d) for time in input_spikes[s] if time + d >= 0]
        else:
            netcon = cells[s].netcon_to(target.receiver)
            netcon.delay = d
        netcon.weight[0] = target.weight(w)
        netcons.append(netcon)

    def schedule():
        for cell in cells:
            cell.restart()
        for netcon, time in events:
            netcon.event(time)

    _handler = h.FInitializeHandler(schedule)    # kept, like netcons, until the run is over
    h.cvode.active(0)
    h.dt = dt_ms
    h.finitialize(0.0)
    h.continuerun(duration_ms)
    return [cell.times() for cell in cells]
