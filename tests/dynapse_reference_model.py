"""The chip model as it was before vectorisation (neurodamus 2026-12, commit be9cd99), kept as
the tests' oracle: every neuron is advanced through every event of the network, one spike at a
time. neurodamus.export.dynapse.chip_model must give the same spikes.

It reads only the export (ChipConfig): per-core currents, CAM masks and base weights, so it
checks what would be programmed, quantisation and core averaging included (a perturbed
config, e.g. with device mismatch, runs the same way).

The integrator converges: its spike counts stop changing once dt is small enough, and the
default DEFAULT_DT_MS is converged on the networks of the tests (counts equal at dt and dt/2).
* Synapses are linear between events, so they are stepped exactly (e^(-t/τ_syn)); an event
  adds its DPI jump at the start of the step it falls in.
* The membrane is integrated in y = ln(I_mem) by classical Runge-Kutta (RK4). In y the
  DPI's exponential rise from the dark current I_0 is a straight line, which a fixed step
  follows; in I_mem, forward Euler needs dt far below 10 µs there and overshoots where
  inhibition shortens τ_mem (the old model: 85 spikes at 1 ms, 0 at 0.1 ms on one neuron).
  Where the step would still be too long for the local rate (strong shunting, strong drive)
  or would let y rise by more than MAX_Y_STEP (the fast rise from I_0, which a long step
  carries past the bend at Igain_mem and over the threshold), it is cut into equal sub-steps,
  each neuron its own number (a power of 2), so no step is unstable.
* A spike's time is interpolated within its step; it reaches its targets at the start of
  the next step (the chip has no programmable delays). The membrane is held at I_0 for the
  refractory period t_ref.

Two choices differ from DYNAPSE.md's step, both so that the model means what the chip does:
* **Shunting inhibition divides.** GABA adds to the leak, and the leak sets both τ_mem and
  the DPI's gain: I_mem,∞ = (Igain_mem / I_leak)·I_in. DYNAPSE.md keeps
  Igain_mem / Itau_mem there (Rockpool 3.1 has no GABA path), so GABA shortened τ_mem
  without lowering the gain; a neuron
  whose net drive stayed above threshold then fired *faster* with inhibition. With the gain
  over the whole leak, dI_mem/dt falls as I_leak rises at every state, so adding inhibition
  can never raise a neuron's rate in a feed-forward network.
* A synapse or AHP circuit that carries no current adds no leak: only the part of I_syn above
  its dark current counts (the floors would otherwise shorten τ_mem by 1 pA of 3-11 pA).
"""

from dataclasses import dataclass

import numpy as np

from neurodamus.export.dynapse.chip_config import ChipConfig
from neurodamus.export.dynapse.parameters import (
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
from neurodamus.export.dynapse.quantize import MASK_BITS
from neurodamus.export.dynapse.routing import DENDRITE_CODES

DEFAULT_DT_MS = 0.1
FEEDBACK_EXPONENT = KAPPA / (KAPPA + 1)   # κ'/κ with κ' = κ²/(κ+1)
MAX_STEP_RATE = 1.5                       # |dy/dy'|·dt per sub-step (RK4 is stable below 2.78)
MAX_Y_STEP = 1.0                          # |dy| per sub-step: at most an e-fold of I_mem
MAX_SUBSTEPS = 256
_Y_FLOOR = np.log(I_0)


@dataclass(frozen=True)
class ChipRun:
    """Spike times (ms) of each neuron, and the step that produced them."""

    spike_times: list
    dt_ms: float
    duration_ms: float

    @property
    def counts(self) -> np.ndarray:
        return np.array([len(t) for t in self.spike_times], dtype=np.int64)

    @property
    def first_spike_ms(self) -> np.ndarray:
        """Time of each neuron's first spike, NaN where it did not fire."""
        return np.array([t[0] if len(t) else np.nan for t in self.spike_times])


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


class _Membrane:
    """dy/dt of y = ln(I_mem) for the DPI neuron, given the synaptic currents above I_0."""

    def __init__(self, i: dict, feedback: bool):
        self.itau, self.igain, self.idc = i["Itau_mem"], i["Igain_mem"], i["Idc"]
        self.feedback = feedback
        self._set_rates()

    def subset(self, rows: np.ndarray) -> "_Membrane":
        """The same model for the neurons `rows` only."""
        part = object.__new__(_Membrane)
        part.itau, part.igain, part.idc = self.itau[rows], self.igain[rows], self.idc[rows]
        part.feedback = self.feedback
        part._set_rates()
        return part

    def _set_rates(self):
        self.rate_per_amp = KAPPA / (U_T * C_MEM)       # 1/τ_mem = this × I_leak
        self.y_bend = np.log(self.igain) + 1.0          # where the rise from I_0 slows down

    def rate(self, y, i_ampa, i_gaba, open_):
        i_mem = np.exp(y)
        i_leak = self.itau + i_gaba
        # I_in blocked (0) while refractory; the gain is over the whole leak (see above).
        i_in = np.where(open_, i_ampa + self.idc - i_leak, 0.0)
        drive = self.igain / i_leak * i_in
        if self.feedback:
            # I_0·exp(κ'V/U_T) with V = (U_T/κ)·ln(I_mem/I_0) is I_0·(I_mem/I_0)^(κ'/κ).
            drive = drive + (I_0 * np.exp(FEEDBACK_EXPONENT * (y - _Y_FLOOR)) / i_leak
                             * (i_mem + self.igain))
        return self.rate_per_amp * i_leak * (drive - i_mem) / (i_mem + self.igain)

    def stiffness(self, y, i_ampa, i_gaba):
        """|∂(dy/dt)/∂y| (its leading terms), to choose the sub-step."""
        i_mem = np.exp(y)
        i_leak = self.itau + i_gaba
        drive = np.abs(self.igain / i_leak * (i_ampa + self.idc - i_leak))
        slope = np.zeros_like(i_mem)
        if self.feedback:
            slope = 2 * I_0 * np.exp(FEEDBACK_EXPONENT * (y - _Y_FLOOR)) / i_leak
            drive = drive + slope * (i_mem + self.igain) / 2
        total = i_mem + self.igain
        return self.rate_per_amp * i_leak * (i_mem * (drive + self.igain) / total ** 2 + slope)


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
    i = _currents(config)
    membrane = _Membrane(i, feedback)
    # The synapse: AMPA and GABA share the core's time constant and gain (parameters.py scales
    # their biases by capacitance so that both give the LIF's tau_syn). A pulse of t_pulse
    # charges it by (1 - e^(-t_pulse/τ_syn))·(Igain_syn/Itau_syn)·I_w.
    tau_syn_ms = current_to_tau(i["Itau_syn"], C_SYN) * 1e3
    syn_jump = (1 - np.exp(-T_PULSE_S * 1e3 / tau_syn_ms)) * i["Igain_syn"] / i["Itau_syn"]
    y_threshold = np.log(i["Ispkthr"])
    y_cap = y_threshold + 1.0                   # stages never overflow the feedback term
    t_ref_ms = refractory_from_iref(i["Iref"]) * 1e3

    # Weight current of each CAM entry: its mask over the base weights of the target's core.
    rows = config.neuron_core_row[config.cam_neuron]
    cam_current = np.sum(MASK_BITS[config.cam_mask] * config.core_base_weights[rows], axis=1)
    cam_jump = cam_current * syn_jump[config.cam_neuron]
    excitatory = config.cam_dendrite == DENDRITE_CODES["AMPA"]
    entries = np.arange(len(config.cam_neuron))
    from_inputs = _Fanout(entries[config.cam_source_is_input], config.cam_source,
                          len(config.input_node_id))
    from_neurons = _Fanout(entries[~config.cam_source_is_input], config.cam_source, n_neurons)

    # Input events (time, channel), sorted by time, inside the window.
    channel = np.concatenate([np.full(len(t), k) for k, t in enumerate(input_spikes)] + [[]])
    times = np.concatenate([np.asarray(t, float) for t in input_spikes] + [[]])
    keep = (times >= 0) & (times < duration_ms)
    order = np.argsort(times[keep], kind="stable")
    event_time, event_channel = times[keep][order], channel[keep][order].astype(np.int64)

    state = _State(np.full(n_neurons, _Y_FLOOR), np.zeros(n_neurons), np.zeros(n_neurons))
    refractory_until = np.full(n_neurons, -np.inf)
    spikes: list[list[float]] = [[] for _ in range(n_neurons)]

    def deliver(rows_delivered):
        exc = rows_delivered[excitatory[rows_delivered]]
        inh = rows_delivered[~excitatory[rows_delivered]]
        state.ampa += np.bincount(config.cam_neuron[exc], cam_jump[exc], minlength=n_neurons)
        state.gaba += np.bincount(config.cam_neuron[inh], cam_jump[inh], minlength=n_neurons)

    t, next_event, n_steps = 0.0, 0, int(round(duration_ms / dt_ms))
    for n in range(n_steps):
        step_end = min((n + 1) * dt_ms, duration_ms)
        while t < step_end:
            # Inputs at t; the segment ends at the next input or refractory end in the step.
            last = int(np.searchsorted(event_time, t, side="right"))
            if last > next_event:
                deliver(from_inputs.rows_of(event_channel[next_event:last]))
                next_event = last
            segment_end = step_end
            if next_event < len(event_time):
                segment_end = min(segment_end, event_time[next_event])
            ending = refractory_until[(refractory_until > t) & (refractory_until < segment_end)]
            segment_end = min(segment_end, ending.min(initial=segment_end))
            open_ = t >= refractory_until
            trial = _advance(membrane, state, open_, tau_syn_ms, segment_end - t, y_cap)
            crossed = open_ & (trial.y >= y_threshold)
            if not crossed.any():
                state, t = trial, segment_end
                continue
            # The first crossing: advance everyone to it, then deliver its spike (no delay).
            fraction = np.clip((y_threshold - state.y) / np.maximum(trial.y - state.y, 1e-300),
                               0.0, 1.0)
            when = np.where(crossed, t + fraction * (segment_end - t), np.inf)
            t_spike = float(when.min())
            first = crossed & (when <= t_spike + 1e-9 * dt_ms)
            if t_spike > t:
                state = _advance(membrane, state, open_, tau_syn_ms, t_spike - t, y_cap)
            t = t_spike
            for k in np.flatnonzero(first):
                spikes[k].append(t_spike)
            state.y[first] = _Y_FLOOR
            refractory_until[first] = t_spike + t_ref_ms[first]
            deliver(from_neurons.rows_of(np.flatnonzero(first)))
        state.y[t < refractory_until] = _Y_FLOOR        # held at I_0 while refractory
    return ChipRun([np.array(s) for s in spikes], dt_ms, duration_ms)


@dataclass
class _State:
    y: np.ndarray          # ln(I_mem)
    ampa: np.ndarray       # I_ampa - I_0
    gaba: np.ndarray       # I_gaba - I_0


def _advance(membrane: _Membrane, state: _State, open_, tau_syn_ms, h_ms: float,
             y_cap) -> _State:
    """The state after h_ms: synapses exactly, the membrane by RK4 in sub-steps short enough
    for the local rate (see MAX_STEP_RATE) and short enough that y moves by at most MAX_Y_STEP
    in one rise (the rise from I_0 is fast but not stiff: a long step there overshoots the bend
    at I_mem ≈ Igain_mem and can cross the threshold in a single step)."""
    h_total = h_ms * 1e-3
    stiffness = np.where(open_, membrane.stiffness(state.y, state.ampa, state.gaba), 0.0)
    # Only a rise below the bend can overshoot it; a fall is bounded by I_0 and by the
    # stiffness, and above the bend the stiffness bounds the step.
    rising = open_ & (state.y < membrane.y_bend)
    speed = np.where(rising, membrane.rate(state.y, state.ampa, state.gaba, open_), 0.0)
    wanted = np.maximum(h_total * stiffness / MAX_STEP_RATE,
                        h_total * np.maximum(speed, 0.0) / MAX_Y_STEP)
    # Each neuron gets its own number of sub-steps, a power of 2 (so a few groups of neurons).
    n_sub = np.minimum(MAX_SUBSTEPS, 2 ** np.ceil(np.log2(np.maximum(wanted, 1.0))))
    y, ampa, gaba = state.y.copy(), state.ampa.copy(), state.gaba.copy()
    for count in np.unique(n_sub):
        rows = np.flatnonzero(n_sub == count)
        every = len(rows) == len(n_sub)
        part = membrane if every else membrane.subset(rows)
        y[rows], ampa[rows], gaba[rows] = _rk4(
            part, state.y[rows], state.ampa[rows], state.gaba[rows], open_[rows],
            tau_syn_ms[rows], h_total, int(count), y_cap[rows])
    y[~open_] = _Y_FLOOR                  # refractory: held at I_0
    return _State(y, ampa, gaba)


def _rk4(membrane: _Membrane, y, ampa, gaba, open_, tau_syn_ms, h_total: float, n_sub: int,
         y_cap):
    h = h_total / n_sub
    half, full = np.exp(-h * 1e3 / (2 * tau_syn_ms)), np.exp(-h * 1e3 / tau_syn_ms)
    for _ in range(n_sub):
        a_mid, g_mid, a_end, g_end = ampa * half, gaba * half, ampa * full, gaba * full
        k1 = membrane.rate(y, ampa, gaba, open_)
        k2 = membrane.rate(np.minimum(y + h / 2 * k1, y_cap), a_mid, g_mid, open_)
        k3 = membrane.rate(np.minimum(y + h / 2 * k2, y_cap), a_mid, g_mid, open_)
        k4 = membrane.rate(np.minimum(y + h * k3, y_cap), a_end, g_end, open_)
        y = np.clip(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), _Y_FLOOR, y_cap)
        ampa, gaba = a_end, g_end
    return y, ampa, gaba
