"""The exported network run on the chip's neuron model (DYNAPSE.md), in NumPy.

It reads only the export (ChipConfig): per-core currents, CAM masks and base weights, so it
checks what would be programmed, quantisation and core averaging included. Forward Euler
with a fixed step; a spike of step n reaches its targets in step n + 1 (the chip has no
programmable delays); input spikes count in the step they fall in.
The model translates parameters, it does not promise the LIF's behaviour: the check
simulation shows how far apart the two are.
"""

import numpy as np

from .chip_config import ChipConfig
from .parameters import (
    C_MEM,
    C_SYN,
    CURRENT_NAMES,
    I_0,
    KAPPA,
    T_PULSE_S,
    U_T,
    current_to_tau,
    refractory_from_iref,
)
from .quantize import MASK_BITS
from .routing import DENDRITE_CODES

DEFAULT_DT_MS = 0.1
KAPPA_PRIME = KAPPA ** 2 / (KAPPA + 1)


class _Fanout:
    """CAM rows grouped by source, to deliver a set of spiking sources at once."""

    def __init__(self, rows: np.ndarray, source: np.ndarray, n_sources: int):
        order = np.argsort(source[rows], kind="stable")
        self.rows = rows[order]
        self.start = np.searchsorted(source[self.rows], np.arange(n_sources + 1))

    def rows_of(self, sources: np.ndarray) -> np.ndarray:
        begin, end = self.start[sources], self.start[sources + 1]
        lengths = end - begin
        offsets = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
        return self.rows[offsets + np.arange(lengths.sum())]


def _currents(config: ChipConfig) -> dict:
    per_neuron = config.core_currents[config.neuron_core_row]
    return {name: per_neuron[:, k] for k, name in enumerate(CURRENT_NAMES)}


def simulate_chip(config: ChipConfig, input_spikes, duration_ms: float,
                  dt_ms: float = DEFAULT_DT_MS) -> np.ndarray:
    """Spike count of each neuron over `duration_ms`; `input_spikes[k]`: times (ms) of channel k."""
    n_neurons, dt = len(config.neuron_node_id), dt_ms * 1e-3
    n_steps = int(round(duration_ms / dt_ms))
    i = _currents(config)
    # The synapse: AMPA and GABA share the core's time constant and gain (parameters.py scales
    # their biases by capacitance so that both give the LIF's tau_syn).
    tau_syn = current_to_tau(i["Itau_syn"], C_SYN)
    syn_decay = np.exp(-dt / tau_syn)
    syn_jump = (1 - np.exp(-T_PULSE_S / tau_syn)) * i["Igain_syn"] / i["Itau_syn"]
    itau_mem, igain_mem, idc, threshold = i["Itau_mem"], i["Igain_mem"], i["Idc"], i["Ispkthr"]
    t_ref = refractory_from_iref(i["Iref"])

    # Weight current of each CAM entry: its mask over the base weights of the target's core.
    rows = config.neuron_core_row[config.cam_neuron]
    cam_current = np.sum(MASK_BITS[config.cam_mask] * config.core_base_weights[rows], axis=1)
    excitatory = config.cam_dendrite == DENDRITE_CODES["AMPA"]
    entries = np.arange(len(config.cam_neuron))
    from_inputs = _Fanout(entries[config.cam_source_is_input], config.cam_source,
                          len(config.input_node_id))
    from_neurons = _Fanout(entries[~config.cam_source_is_input], config.cam_source, n_neurons)

    # Input events: (step, channel), sorted by step.
    channel = np.concatenate([np.full(len(t), k) for k, t in enumerate(input_spikes)] + [[]])
    step = np.floor(np.concatenate(list(input_spikes) + [[]]) / dt_ms).astype(np.int64)
    in_window = (step >= 0) & (step < n_steps)
    order = np.argsort(step[in_window], kind="stable")
    step, channel = step[in_window][order], channel[in_window][order].astype(np.int64)
    step_bounds = np.searchsorted(step, np.arange(n_steps + 1))

    # The LIF has no adaptation (Iw_ahp = 0): I_ahp stays at its floor I_0.
    i_ampa, i_gaba, i_ahp, i_mem = (np.full(n_neurons, I_0) for _ in range(4))
    refractory_until = np.full(n_neurons, -np.inf)
    counts = np.zeros(n_neurons, dtype=np.int64)
    spiked = np.zeros(n_neurons, dtype=bool)
    for n in range(n_steps):
        delivered = np.concatenate([
            from_inputs.rows_of(channel[step_bounds[n]:step_bounds[n + 1]]),
            from_neurons.rows_of(np.flatnonzero(spiked))])
        exc, inh = delivered[excitatory[delivered]], delivered[~excitatory[delivered]]
        iw_ampa = np.bincount(config.cam_neuron[exc], cam_current[exc], minlength=n_neurons)
        iw_gaba = np.bincount(config.cam_neuron[inh], cam_current[inh], minlength=n_neurons)
        # 1. Synapses (DPI low-pass): I_syn,inf = (Igain/Itau)·I_w, applied for one pulse.
        i_ampa = np.maximum(syn_decay * i_ampa + syn_jump * iw_ampa, I_0)
        i_gaba = np.maximum(syn_decay * i_gaba + syn_jump * iw_gaba, I_0)
        # 2. Membrane, with GABA and AHP adding to the leak, and positive feedback.
        i_leak = itau_mem + i_gaba + i_ahp
        tau_mem = U_T * C_MEM / (KAPPA * i_leak)
        refractory = n * dt < refractory_until
        i_in = np.where(refractory, 0.0, i_ampa + idc - i_leak)
        i_mem_inf = igain_mem / itau_mem * i_in
        # I_0·exp(κ'V/U_T) with V = (U_T/κ)·ln(I_mem/I_0) is I_0·(I_mem/I_0)^(κ'/κ).
        feedback = I_0 * (i_mem / I_0) ** (KAPPA_PRIME / KAPPA) / i_leak * (i_mem + igain_mem)
        d_mem = i_mem / (tau_mem * (i_mem + igain_mem)) * (
            i_mem_inf + feedback - i_mem * (1 + i_ahp / itau_mem))
        i_mem = np.maximum(i_mem + dt * d_mem, I_0)
        # 3. Spike, reset, refractory period.
        spiked = i_mem >= threshold
        i_mem[spiked] = I_0
        refractory_until[spiked] = n * dt + t_ref[spiked]
        counts += spiked
    return counts

