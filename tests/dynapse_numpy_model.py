"""The exported network run on the chip's neuron model (DYNAPSE.md), in NumPy, vectorised.

It reads only the export (ChipConfig): per-core currents, CAM masks and base weights, so it
checks what would be programmed, quantisation and core averaging included (a perturbed
config, e.g. with device mismatch, runs the same way).

The neuron model and its numerics:
* Synapses are linear between events, so they are stepped exactly (e^(-t/τ_syn)); an event
  adds its DPI jump at its own time.
* The membrane is integrated in y = ln(I_mem) by classical Runge-Kutta (RK4). In y the
  DPI's exponential rise from the dark current I_0 is a straight line, which a fixed step
  follows (forward Euler in I_mem needs steps far below 10 µs there and overshoots where
  inhibition shortens τ_mem). Each neuron chooses its sub-steps as it goes (see _advance): y
  moves by at most MAX_Y_STEP where a step could jump across the bend at Igain_mem, and an RK4
  sub-step is short for the local rate (RK4_STEP_RATE). A shunted membrane relaxing faster
  than that (stiff) takes exponential-Euler sub-steps, stable at any rate.
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

How it is vectorised, and why that changes no spike. Between the events that reach it (its
inputs, the spikes of its sources, the end of its own refractory period) a neuron is alone, so
each neuron is integrated over its own segments: from the last of its own events to the next
one, or to the end of the step dt. All neurons advance together through a step, each through
its own segments (one vectorised RK4 per round of segments). The spikes of a step are then
found by iterating to the causal fixed point: integrate every neuron through the step with the
spikes known so far, deliver the spikes found to their targets at their times, and integrate
again only the neurons whose deliveries changed, until no spike changes (by more than
SETTLED_MS: where a segment ends moves a spike by rounding; a step that has not settled after
MAX_PASSES passes is kept as it stands and counted in ChipRun.unsettled_steps). The earliest
spike of a step depends on no other spike of the step, so each pass settles at least one more,
and the fixed point is the sequence of spikes a one-spike-at-a-time simulation gives (the old model,
kept in tests/dynapse_reference_model.py as the oracle: on the tests' networks the same
counts and spike times within 0.01 ms, where neither integrator's error decides a race between
near-simultaneous spikes). A neuron at I_0 whose drive cannot lift it is not integrated.
Speed: 1.2-1.5x the old model on 1000 neurons at 18 Hz (the per-sub-step NumPy calls of the
few fast neurons dominate), not the 20x issue 27 asked for.

The integrator converges: its spike counts stop changing once dt is small enough, and the
default DEFAULT_DT_MS is converged on the networks of the tests (counts equal at dt and dt/2).
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
MAX_STEP_RATE = 1.5                       # |dy/dy'|·dt beyond which a relaxation is stiff
RK4_STEP_RATE = 0.5                       # |dy/dy'|·dt per RK4 sub-step, for accuracy
MAX_Y_STEP = 1.0                          # |dy| per sub-step: at most an e-fold of I_mem
MAX_SUBSTEPS = 256
SETTLED_MS = 1e-6                         # spike times equal within this are the same spike
MAX_PASSES = 200                          # passes of one step's fixed point before accepting it
_Y_FLOOR = np.log(I_0)
_RATE_PER_AMP = KAPPA / (U_T * C_MEM)     # 1/τ_mem = this × I_leak


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


class _Fanout:
    """CAM rows grouped by source, to deliver a set of spiking sources at once."""

    def __init__(self, rows: np.ndarray, source: np.ndarray, n_sources: int):
        order = np.argsort(source[rows], kind="stable")
        self.rows = rows[order]
        self.start = np.searchsorted(source[self.rows], np.arange(n_sources + 1))

    def expand(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(CAM rows, position in `sources` of the source of each row)."""
        begin, end = self.start[sources], self.start[sources + 1]
        lengths = end - begin
        owner = np.repeat(np.arange(len(sources)), lengths)
        offsets = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
        return self.rows[offsets + np.arange(lengths.sum())], owner


def _currents(config: ChipConfig) -> dict:
    per_neuron = config.core_currents[config.neuron_core_row]
    return {name: per_neuron[:, k] for k, name in enumerate(CURRENT_NAMES)}


@dataclass
class _Neurons:
    """Per-neuron constants of the membrane and synapse, for a set of neurons."""

    itau: np.ndarray
    igain: np.ndarray
    idc: np.ndarray
    tau_syn_s: np.ndarray
    y_threshold: np.ndarray
    y_cap: np.ndarray              # stages never overflow the feedback term
    y_bend: np.ndarray             # where the rise from I_0 slows down
    t_ref_ms: np.ndarray
    feedback: bool

    def take(self, rows: np.ndarray) -> "_Neurons":
        return _Neurons(self.itau[rows], self.igain[rows], self.idc[rows], self.tau_syn_s[rows],
                        self.y_threshold[rows], self.y_cap[rows], self.y_bend[rows],
                        self.t_ref_ms[rows], self.feedback)

    def rate(self, y, ampa, gaba):
        """dy/dt of an open (not refractory) neuron; ampa and gaba are the currents above I_0.
        A·(Igain·I_in + f·(I_mem + Igain) − I_leak·I_mem) / (I_mem + Igain): the DPI with the
        gain over the whole leak and the positive feedback f = I_0·(I_mem/I_0)^(κ'/κ)."""
        i_mem = np.exp(y)
        i_leak = self.itau + gaba
        numerator = self.igain * (ampa + self.idc - i_leak) - i_leak * i_mem
        total = i_mem + self.igain
        if self.feedback:
            numerator += I_0 * np.exp(FEEDBACK_EXPONENT * (y - _Y_FLOOR)) * total
        return _RATE_PER_AMP * numerator / total

    def stiffness(self, y, ampa, gaba):
        """|∂(dy/dt)/∂y| (its leading terms), to choose the sub-step."""
        i_mem = np.exp(y)
        i_leak = self.itau + gaba
        drive = np.abs(self.igain / i_leak * (ampa + self.idc - i_leak))
        total = i_mem + self.igain
        if self.feedback:
            slope = 2 * I_0 * np.exp(FEEDBACK_EXPONENT * (y - _Y_FLOOR)) / i_leak
            drive = drive + slope * total / 2
            return _RATE_PER_AMP * i_leak * (i_mem * (drive + self.igain) / total ** 2 + slope)
        return _RATE_PER_AMP * i_leak * (i_mem * (drive + self.igain) / total ** 2)


def _advance(neurons: _Neurons, y, ampa, gaba, h_s):
    """(y, ampa, gaba, crossing) after h_s seconds (per neuron), in sub-steps each neuron
    chooses as it goes; `crossing` is the time (s) at which y reached the threshold, linear
    within the sub-step that crossed it (NaN where it did not), and the neuron stops there.

    A sub-step keeps y from moving by more than MAX_Y_STEP where a long step would jump across
    the bend at I_mem ≈ Igain_mem: in a fast rise from I_0 (it overshoots the bend and can
    cross the threshold) and in a fast fall from above it (a strong shunt on a charged
    membrane). For RK4 it is also short enough for the local rate (MAX_STEP_RATE). Where the
    rate alone would need a shorter one (a shunted membrane relaxing in microseconds) the
    neuron takes the exponential step instead, stable at any rate. Each sub-step is chosen from
    the state at its start, so a fast rise takes short steps only until it has passed the bend.
    """
    y, ampa, gaba = y.copy(), ampa.copy(), gaba.copy()
    total = np.asarray(h_s, dtype=float)
    remaining = total.copy()
    crossing = np.full(len(y), np.nan)
    shortest = remaining / MAX_SUBSTEPS
    rows = np.flatnonzero(remaining > 0)
    part = neurons if len(rows) == len(y) else neurons.take(rows)
    while rows.size:
        yr, ar, gr, left = y[rows], ampa[rows], gaba[rows], remaining[rows]
        rate = part.rate(yr, ar, gr)
        below = yr < part.y_bend
        speed = np.where(below, np.maximum(rate, 0.0), np.maximum(-rate, 0.0))
        h_move = MAX_Y_STEP / np.maximum(speed, 1e-300)
        h_stable = MAX_STEP_RATE / np.maximum(part.stiffness(yr, ar, gr), 1e-300)
        # Stiff: a relaxation faster than the step (a shunted membrane). The runaway of the
        # positive feedback above the bend is fast too, but it grows: RK4 follows it.
        stiff = (h_stable < np.minimum(h_move, left)) & (below | (rate <= 0))
        # The exponential step follows a relaxation exactly only where it is linear: it too
        # moves y by at most MAX_Y_STEP, either way.
        h_relax = MAX_Y_STEP / np.maximum(np.abs(rate), 1e-300)
        h_accurate = h_stable * (RK4_STEP_RATE / MAX_STEP_RATE)
        h = np.minimum(np.where(stiff, h_relax, np.minimum(h_move, h_accurate)), left)
        h = np.maximum(h, np.minimum(shortest[rows], left))
        h = np.where(h >= left * (1 - 1e-9), left, h)
        y_new, a_new, g_new = yr.copy(), ar.copy(), gr.copy()
        for method, chosen in ((_rk4_step, ~stiff), (_exponential_step, stiff)):
            if chosen.all():
                y_new, a_new, g_new = method(part, yr, ar, gr, h, rate)
            elif chosen.any():
                k = np.flatnonzero(chosen)
                y_new[k], a_new[k], g_new[k] = method(part.take(k), yr[k], ar[k], gr[k], h[k],
                                                      rate[k])
        crossed = y_new >= part.y_threshold
        if crossed.any():
            k = np.flatnonzero(crossed)
            fraction = np.clip((part.y_threshold[k] - yr[k])
                               / np.maximum(y_new[k] - yr[k], 1e-300), 0.0, 1.0)
            crossing[rows[k]] = total[rows[k]] - left[k] + fraction * h[k]
            h = np.where(crossed, left, h)          # it stops at its spike
        y[rows], ampa[rows], gaba[rows] = y_new, a_new, g_new
        remaining[rows] = left - h
        going = h < left
        if not going.all():
            rows = rows[going]
            part = part.take(np.flatnonzero(going))
    return y, ampa, gaba, crossing


def _rk4_step(neurons: _Neurons, y, ampa, gaba, h, k1):
    half, full = np.exp(-h / (2 * neurons.tau_syn_s)), np.exp(-h / neurons.tau_syn_s)
    a_mid, g_mid, a_end, g_end = ampa * half, gaba * half, ampa * full, gaba * full
    cap = neurons.y_cap
    k2 = neurons.rate(np.minimum(y + h / 2 * k1, cap), a_mid, g_mid)
    k3 = neurons.rate(np.minimum(y + h / 2 * k2, cap), a_mid, g_mid)
    k4 = neurons.rate(np.minimum(y + h * k3, cap), a_end, g_end)
    y = np.clip(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), _Y_FLOOR, cap)
    return y, a_end, g_end


def _exponential_step(neurons: _Neurons, y, ampa, gaba, h, rate):
    """y' = f(y) linearised at y and solved exactly over h (exponential Euler): y + h·φ1(h·J)·f,
    φ1(z) = (e^z − 1)/z. Stable for any J < 0, where it goes to the membrane's equilibrium
    instead of past it. The synapses enter at mid-step."""
    half, full = np.exp(-h / (2 * neurons.tau_syn_s)), np.exp(-h / neurons.tau_syn_s)
    a_mid, g_mid = ampa * half, gaba * half
    delta = 1e-6
    f = neurons.rate(y, a_mid, g_mid)
    jacobian = (neurons.rate(y + delta, a_mid, g_mid) - f) / delta
    z = h * jacobian
    small = np.abs(z) < 1e-8
    phi = np.where(small, 1.0, np.expm1(z) / np.where(small, 1.0, z))
    y = np.clip(y + h * phi * f, _Y_FLOOR, neurons.y_cap)
    return y, ampa * full, gaba * full


@dataclass
class _Deliveries:
    """Synaptic jumps (A) at times (ms), one row per (target, time), sorted by target then time."""

    target: np.ndarray
    time: np.ndarray
    ampa: np.ndarray
    gaba: np.ndarray

    @staticmethod
    def build(target, time, jump, excitatory) -> "_Deliveries":
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
        return _Deliveries(target[new], time[new], ampa, gaba)


@dataclass
class _Result:
    y: np.ndarray
    ampa: np.ndarray
    gaba: np.ndarray
    refractory_until: np.ndarray
    spike_neuron: np.ndarray       # positions in the integrated rows
    spike_time: np.ndarray


def _integrate(neurons: _Neurons, y, ampa, gaba, refractory_until, t0: float, t1: float,
               deliveries: _Deliveries) -> _Result:
    """Every neuron from t0 to t1 through its own segments; `deliveries` targets are positions
    in these rows. Spikes end a segment; a neuron may spike again after its refractory period."""
    m = len(y)
    y, ampa, gaba = y.copy(), ampa.copy(), gaba.copy()
    refractory_until = refractory_until.copy()
    t = np.full(m, t0)
    start = np.searchsorted(deliveries.target, np.arange(m))
    end = np.searchsorted(deliveries.target, np.arange(m), side="right")
    pointer = start.copy()
    last = len(deliveries.time) - 1
    spike_neuron: list[np.ndarray] = []
    spike_time: list[np.ndarray] = []
    active = np.arange(m)
    while active.size:
        ta = t[active]
        # Deliveries due at t (one per neuron and time, see _Deliveries).
        while last >= 0:
            p = pointer[active]
            due = (p < end[active]) & (deliveries.time[np.minimum(p, last)] <= ta)
            if not due.any():
                break
            rows, p = active[due], p[due]
            ampa[rows] += deliveries.ampa[p]
            gaba[rows] += deliveries.gaba[p]
            pointer[rows] += 1
        p = pointer[active]
        upcoming = p < end[active]
        b = np.where(upcoming, deliveries.time[np.minimum(p, last)] if last >= 0 else t1, t1)
        ref = refractory_until[active]
        closed = ref > ta
        b = np.where(closed & (ref < b), ref, b)
        h_s = (b - ta) * 1e-3
        sub = neurons.take(active) if len(active) != m else neurons
        decay = np.exp(-h_s / sub.tau_syn_s)
        a0, g0, y0 = ampa[active], gaba[active], y[active]
        a1, g1 = a0 * decay, g0 * decay
        y1 = np.full(len(active), _Y_FLOOR)
        # Open neurons that may move: not at I_0, or driven up at either end of the segment.
        moving = ~closed & ((y0 > _Y_FLOOR) | (sub.rate(y0, a0, g0) > 0)
                            | (sub.rate(y0, a1, g1) > 0))
        crossing = np.full(len(active), np.nan)
        if moving.any():
            k = np.flatnonzero(moving)
            part = sub.take(k) if len(k) != len(active) else sub
            y1[k], a1[k], g1[k], crossing[k] = _advance(part, y0[k], a0[k], g0[k], h_s[k])
        crossed = ~np.isnan(crossing)
        t_new = b
        if crossed.any():
            k = np.flatnonzero(crossed)
            when = ta[k] + crossing[k] * 1e3
            back = np.exp(-crossing[k] / sub.tau_syn_s[k])
            a1[k], g1[k], y1[k] = a0[k] * back, g0[k] * back, _Y_FLOOR
            t_new = b.copy()
            t_new[k] = when
            rows = active[k]
            refractory_until[rows] = when + sub.t_ref_ms[k]
            spike_neuron.append(rows)
            spike_time.append(when)
        y[active], ampa[active], gaba[active], t[active] = y1, a1, g1, t_new
        active = active[t_new < t1]
    neurons_out = np.concatenate(spike_neuron) if spike_neuron else np.zeros(0, np.int64)
    times_out = np.concatenate(spike_time) if spike_time else np.zeros(0)
    return _Result(y, ampa, gaba, refractory_until, neurons_out, times_out)


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
    # The synapse: AMPA and GABA share the core's time constant and gain (parameters.py scales
    # their biases by capacitance so that both give the LIF's tau_syn). A pulse of t_pulse
    # charges it by (1 - e^(-t_pulse/τ_syn))·(Igain_syn/Itau_syn)·I_w.
    tau_syn_s = current_to_tau(i["Itau_syn"], C_SYN)
    syn_jump = (1 - np.exp(-T_PULSE_S / tau_syn_s)) * i["Igain_syn"] / i["Itau_syn"]
    y_threshold = np.log(i["Ispkthr"])
    neurons = _Neurons(itau=i["Itau_mem"], igain=i["Igain_mem"], idc=i["Idc"],
                       tau_syn_s=tau_syn_s, y_threshold=y_threshold, y_cap=y_threshold + 1.0,
                       y_bend=np.log(i["Igain_mem"]) + 1.0,
                       t_ref_ms=refractory_from_iref(i["Iref"]) * 1e3, feedback=feedback)

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

    def deliveries_of(cam_rows, at, targets=None) -> _Deliveries:
        """Deliveries of CAM rows at times `at`, limited to (and indexed by) `targets`."""
        target = config.cam_neuron[cam_rows]
        if targets is not None:
            inside = np.isin(target, targets)
            cam_rows, at, target = cam_rows[inside], at[inside], target[inside]
            target = np.searchsorted(targets, target)
        return _Deliveries.build(target, at, cam_jump[cam_rows], excitatory[cam_rows])

    y = np.full(n_neurons, _Y_FLOOR)
    ampa, gaba = np.zeros(n_neurons), np.zeros(n_neurons)
    refractory_until = np.full(n_neurons, -np.inf)
    spikes: list[list[float]] = [[] for _ in range(n_neurons)]
    everyone = np.arange(n_neurons)
    next_event, n_steps, unsettled = 0, int(round(duration_ms / dt_ms)), 0
    for n in range(n_steps):
        t0, t1 = n * dt_ms, min((n + 1) * dt_ms, duration_ms)
        if t1 <= t0:
            continue
        last = int(np.searchsorted(event_time, t1, side="left"))
        in_rows, owner = from_inputs.expand(event_channel[next_event:last])
        in_time = event_time[next_event:last][owner]
        next_event = last
        result = _integrate(neurons, y, ampa, gaba, refractory_until, t0, t1,
                            deliveries_of(in_rows, in_time))
        end = (result.y, result.ampa, result.gaba, result.refractory_until)
        step_spikes = _spike_table(everyone[result.spike_neuron], result.spike_time)
        changed = np.array(sorted(step_spikes), dtype=np.int64)
        for _ in range(MAX_PASSES):
            if not changed.size:
                break
            out_rows, _owner = from_neurons.expand(changed)
            targets = np.unique(config.cam_neuron[out_rows])
            if not targets.size:
                break
            spikers = np.array(sorted(step_spikes), dtype=np.int64)
            spike_rows, owner = from_neurons.expand(np.repeat(
                spikers, [len(step_spikes[s]) for s in spikers]))
            spike_at = np.concatenate([step_spikes[s] for s in spikers])[owner]
            inside = np.isin(config.cam_neuron[in_rows], targets)
            delivered = deliveries_of(np.concatenate([in_rows[inside], spike_rows]),
                                      np.concatenate([in_time[inside], spike_at]), targets)
            part = _integrate(neurons.take(targets), y[targets], ampa[targets], gaba[targets],
                              refractory_until[targets], t0, t1, delivered)
            for array, value in zip(end, (part.y, part.ampa, part.gaba,
                                          part.refractory_until)):
                array[targets] = value
            again = _spike_table(targets[part.spike_neuron], part.spike_time)
            before = {k: step_spikes.pop(k) for k in targets if k in step_spikes}
            step_spikes.update(again)
            changed = np.array(sorted(k for k in set(before) | set(again)
                                      if not _same_spikes(before.get(k), again.get(k))),
                               dtype=np.int64)
        else:
            unsettled += 1
        y, ampa, gaba, refractory_until = end
        for k, when in step_spikes.items():
            spikes[k].extend(when)
    return ChipRun([np.array(s) for s in spikes], dt_ms, duration_ms, unsettled)


def _same_spikes(a, b) -> bool:
    """The same spikes, to SETTLED_MS: a neuron's spike time depends, by rounding, on where its
    segments end, so a pass can move a spike by far less than a nanosecond without a cause."""
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(abs(x - y) <= SETTLED_MS for x, y in zip(a, b))


def _spike_table(neuron: np.ndarray, time: np.ndarray) -> dict:
    """{neuron: (its spike times in the step, in order)}."""
    table: dict[int, tuple] = {}
    for k in np.argsort(time, kind="stable"):
        table[int(neuron[k])] = table.get(int(neuron[k]), ()) + (float(time[k]),)
    return table
