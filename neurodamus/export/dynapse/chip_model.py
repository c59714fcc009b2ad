"""The exported network run on the chip's neuron model (DYNAPSE.md); the loops are compiled
(chip_kernel.py, numba), the preparation here is NumPy.

It reads only the export (ChipConfig): per-core currents, CAM masks and base weights, so it
checks what would be programmed, quantisation and core averaging included (a perturbed
config, e.g. with device mismatch, runs the same way).

The neuron model and its numerics:
* Synapses are linear between events, so they are stepped exactly (e^(-t/τ_syn)); an event
  adds its DPI jump at its own time.
* The membrane is integrated in y = ln(I_mem) by classical Runge-Kutta (RK4). In y the
  DPI's exponential rise from the dark current I_0 is a straight line, which a fixed step
  follows (forward Euler in I_mem needs steps far below 10 µs there and overshoots where
  inhibition shortens τ_mem). Each neuron chooses its sub-steps as it goes: y moves by at
  most MAX_Y_STEP where a step could jump across the bend at Igain_mem, and an RK4 sub-step
  is short for the local rate (RK4_STEP_RATE). A shunted membrane relaxing faster than that
  (stiff) takes exponential-Euler sub-steps, stable at any rate.
* A spike's time is interpolated within the sub-step that crossed the threshold; it reaches
  its targets at that time (the chip has no programmable delays). The membrane is held at I_0
  for the refractory period.
* **Shunting inhibition divides.** GABA adds to the leak, and the leak sets both τ_mem and
  the DPI's gain: I_mem,∞ = (Igain_mem / I_leak)·I_in. DYNAPSE.md keeps Igain_mem / Itau_mem
  there, so GABA shortened τ_mem without lowering the gain and a neuron whose net drive stayed
  above threshold fired *faster* with inhibition; with the gain over the whole leak, adding
  inhibition can never raise a neuron's rate in a feed-forward network. (Rockpool 3.1's
  DynapSim has no GABA path at all: its synaptic currents all drive the membrane.)
* A synapse or AHP circuit that carries no current adds no leak: only the part of I_syn above
  its dark current counts.

Events in order: between the events that reach it (its inputs, the spikes of its sources, the
end of its own refractory period) a neuron is alone, so each neuron is integrated over its own
segments. The spikes of a step are found by iterating to their causal fixed point (integrate
every neuron through the step with the spikes known so far, deliver the spikes found at their
times, integrate again the neurons whose deliveries changed, until no spike moves by more than
SETTLED_MS; a step not settled after MAX_PASSES passes is kept and counted in
ChipRun.unsettled_steps). The earliest spike of a step depends on no other spike of the step,
so each pass settles at least one more: the fixed point is the sequence of spikes a
one-spike-at-a-time simulation gives.

The NumPy model this compiles (vectorised over neurons, 1.2-1.6x its one-spike-at-a-time
predecessor) is kept as the tests' reference (tests/dynapse_numpy_model.py): the same spikes,
in the same order, times equal to rounding (exp and log here are the C library's, NumPy's SIMD
ones differ in the last bit). ci/bench-dynapse-kernel times both.

The integrator converges: its spike counts stop changing once dt is small enough, and the
default DEFAULT_DT_MS is converged on the networks of the tests (counts equal at dt and dt/2).
"""

from dataclasses import dataclass

import numpy as np

from .chip_config import ChipConfig
from .chip_kernel import run_steps
from .parameters import (
    C_SYN,
    CURRENT_NAMES,
    T_PULSE_S,
    current_to_tau,
    refractory_from_iref,
)
from .quantize import MASK_BITS
from .routing import DENDRITE_CODES

DEFAULT_DT_MS = 0.1


@dataclass(frozen=True)
class ChipRun:
    """Spike times (ms) of each neuron, and the step that produced them."""

    spike_times: list
    dt_ms: float
    duration_ms: float
    unsettled_steps: int = 0       # steps whose spikes still moved after MAX_PASSES passes

    @property
    def counts(self) -> np.ndarray:
        return np.array([len(t) for t in self.spike_times], dtype=np.int64)

    @property
    def first_spike_ms(self) -> np.ndarray:
        """Time of each neuron's first spike, NaN where it did not fire."""
        return np.array([t[0] if len(t) else np.nan for t in self.spike_times])


def simulate_chip(config: ChipConfig, input_spikes, duration_ms: float,
                  dt_ms: float = DEFAULT_DT_MS, feedback: bool = True) -> np.ndarray:
    """Spike count of each neuron over `duration_ms`; `input_spikes[k]`: times (ms) of channel k."""
    return run_chip(config, input_spikes, duration_ms, dt_ms, feedback).counts


def run_chip(config: ChipConfig, input_spikes, duration_ms: float,
             dt_ms: float = DEFAULT_DT_MS, feedback: bool = True) -> ChipRun:
    """The spike times of every neuron; `feedback=False` switches the positive feedback off
    (the DPI is then a linear LIF wherever I_mem is well above Igain_mem)."""
    if not dt_ms > 0:
        raise ValueError(f"dt must be positive, got {dt_ms!r} ms")
    n_neurons = len(config.neuron_node_id)
    per_neuron = config.core_currents[config.neuron_core_row]
    i = {name: per_neuron[:, k] for k, name in enumerate(CURRENT_NAMES)}
    # The synapse: AMPA and GABA share the core's time constant and gain (parameters.py scales
    # their biases by capacitance so that both give the LIF's tau_syn). A pulse of t_pulse
    # charges it by (1 - e^(-t_pulse/τ_syn))·(Igain_syn/Itau_syn)·I_w.
    tau_syn_s = current_to_tau(i["Itau_syn"], C_SYN)
    syn_jump = (1 - np.exp(-T_PULSE_S / tau_syn_s)) * i["Igain_syn"] / i["Itau_syn"]
    y_threshold = np.log(i["Ispkthr"])
    t_ref_ms = refractory_from_iref(i["Iref"]) * 1e3
    constants = np.array([i["Itau_mem"], i["Igain_mem"], i["Idc"], tau_syn_s, y_threshold,
                          y_threshold + 1.0,                 # the cap: stages never overflow
                          np.log(i["Igain_mem"]) + 1.0,      # the bend of the rise from I_0
                          t_ref_ms], dtype=float).reshape(8, n_neurons)

    # Weight current of each CAM entry: its mask over the base weights of the target's core.
    rows = config.neuron_core_row[config.cam_neuron]
    cam_current = np.sum(MASK_BITS[config.cam_mask] * config.core_base_weights[rows], axis=1)
    cam_jump = cam_current * syn_jump[config.cam_neuron]
    excitatory = config.cam_dendrite == DENDRITE_CODES["AMPA"]
    entries = np.arange(len(config.cam_neuron))
    from_input = entries[config.cam_source_is_input]
    from_neuron = entries[~config.cam_source_is_input]

    # Input events (time, channel), sorted by time, inside the window, then one delivery per
    # (target, time), its jumps summed in event order: what each step delivers.
    channel = np.concatenate([np.full(len(t), k) for k, t in enumerate(input_spikes)] + [[]])
    times = np.concatenate([np.asarray(t, float) for t in input_spikes] + [[]])
    keep = (times >= 0) & (times < duration_ms)
    order = np.argsort(times[keep], kind="stable")
    event_time, event_channel = times[keep][order], channel[keep][order].astype(np.int64)
    in_rows, owner = _fan_out(from_input, config.cam_source, len(config.input_node_id),
                              event_channel)
    in_target, in_time, in_ampa, in_gaba = _merged(config.cam_neuron[in_rows],
                                                   event_time[owner], cam_jump[in_rows],
                                                   excitatory[in_rows])
    in_start = np.searchsorted(in_target, np.arange(n_neurons + 1))

    # Recurrent CAM entries by source (fan-out) and by target, sources in order (fan-in).
    by_source = from_neuron[np.lexsort((from_neuron, config.cam_source[from_neuron]))]
    out_start = np.searchsorted(config.cam_source[by_source], np.arange(n_neurons + 1))
    by_target = from_neuron[np.lexsort((config.cam_source[from_neuron],
                                        config.cam_neuron[from_neuron]))]
    rec_start = np.searchsorted(config.cam_neuron[by_target], np.arange(n_neurons + 1))

    tau_values, tau_class = np.unique(tau_syn_s, return_inverse=True)
    # Spikes of one neuron in one step are a refractory period apart.
    per_step = int(dt_ms / t_ref_ms.min()) + 3 if n_neurons else 1
    neuron, time, unsettled = run_steps(
        int(round(duration_ms / dt_ms)), float(dt_ms), float(duration_ms), constants,
        bool(feedback), in_start.astype(np.int64), in_time, in_ampa, in_gaba,
        out_start.astype(np.int64), config.cam_neuron[by_source].astype(np.int64),
        rec_start.astype(np.int64), config.cam_source[by_target].astype(np.int64),
        cam_jump[by_target].astype(float), excitatory[by_target], tau_values.astype(float),
        tau_class.astype(np.int64), per_step)
    order = np.argsort(neuron, kind="stable")
    split = np.searchsorted(neuron[order], np.arange(1, n_neurons))
    spike_times = np.split(time[order], split) if n_neurons else []
    return ChipRun(spike_times, dt_ms, duration_ms, int(unsettled))


def _fan_out(rows: np.ndarray, source: np.ndarray, n_sources: int, events: np.ndarray):
    """(CAM rows reached by each event of `events` (source indices), the event of each row):
    each event's rows in CAM order, events in order."""
    rows = rows[np.argsort(source[rows], kind="stable")]
    start = np.searchsorted(source[rows], np.arange(n_sources + 1))
    begin, end = start[events], start[events + 1]
    lengths = end - begin
    owner = np.repeat(np.arange(len(events)), lengths)
    offsets = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
    return rows[offsets + np.arange(lengths.sum())], owner


def _merged(target, time, jump, excitatory):
    """One row per (target, time), sorted by target then time, the jumps of a row summed in
    the order given (AMPA and GABA apart)."""
    order = np.lexsort((time, target))
    target, time = target[order], time[order]
    jump, excitatory = jump[order], excitatory[order]
    if len(target):
        new = np.r_[True, (target[1:] != target[:-1]) | (time[1:] != time[:-1])]
    else:
        new = np.zeros(0, bool)
    group = np.cumsum(new) - 1
    count = int(new.sum())
    ampa = np.bincount(group, np.where(excitatory, jump, 0.0), minlength=count)
    gaba = np.bincount(group, np.where(excitatory, 0.0, jump), minlength=count)
    return target[new], time[new].astype(float), ampa, gaba
