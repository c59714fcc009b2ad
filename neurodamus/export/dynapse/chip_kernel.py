"""The chip model's inner loops, compiled by numba: one neuron at a time, in scalars.

Why compiled: the NumPy model (kept as tests/dynapse_numpy_model.py) spent its time in NumPy
call overhead, ~60 calls per sub-step on a handful of values, because the few neurons that need
sub-steps (a rise from I_0, a shunt) are a different handful every step. Here every neuron is
integrated by a scalar loop, so a neuron costs what its own sub-steps cost.

Why the same spikes: the algorithm is the NumPy model's, operation for operation (the same
expressions in the same order, no fast-math, so no reassociation or fused multiply-add); only
exp, expm1 and log come from the C library instead of NumPy's SIMD routines, which differ in
the last bit for a few percent of arguments. Per step of dt:
* every neuron is integrated from t0 through its own segments (its deliveries, the end of its
  refractory period, its spikes; see _integrate_neuron) with the step's input spikes;
* the spikes found are delivered to their targets at their times and the targets integrated
  again from t0, until no spike moves by more than SETTLED_MS (the causal fixed point; a step
  that has not settled after MAX_PASSES passes is kept and counted). Deliveries to one neuron
  at the same time are summed in the NumPy model's order: inputs first, then spikes by
  source neuron, each source's in time order.
Only the per-neuron constants, the merged input deliveries and the CAM fan-outs come in; the
preparation (currents, jumps, ordering) stays in NumPy in chip_model.py.
"""

import math

import numpy as np
from numba import njit

from .parameters import C_MEM, I_0, KAPPA, U_T

FEEDBACK_EXPONENT = KAPPA / (KAPPA + 1)   # κ'/κ with κ' = κ²/(κ+1)
MAX_STEP_RATE = 1.5                       # |dy/dy'|·dt beyond which a relaxation is stiff
RK4_STEP_RATE = 0.5                       # |dy/dy'|·dt per RK4 sub-step, for accuracy
MAX_Y_STEP = 1.0                          # |dy| per sub-step: at most an e-fold of I_mem
MAX_SUBSTEPS = 256
SETTLED_MS = 1e-6                         # spike times equal within this are the same spike
MAX_PASSES = 200                          # passes of one step's fixed point before accepting it
Y_FLOOR = float(np.log(I_0))
RATE_PER_AMP = KAPPA / (U_T * C_MEM)      # 1/τ_mem = this × I_leak
_ACCURATE = RK4_STEP_RATE / MAX_STEP_RATE
_ALMOST_ALL = 1 - 1e-9


@njit(cache=True)
def _rate(y, ampa, gaba, itau, igain, idc, feedback):
    """dy/dt of an open neuron (chip_model's docstring has the model)."""
    i_mem = math.exp(y)
    i_leak = itau + gaba
    numerator = igain * (ampa + idc - i_leak) - i_leak * i_mem
    total = i_mem + igain
    if feedback:
        numerator += I_0 * math.exp(FEEDBACK_EXPONENT * (y - Y_FLOOR)) * total
    return RATE_PER_AMP * numerator / total


@njit(cache=True)
def _rate_and_stiffness(y, ampa, gaba, itau, igain, idc, feedback):
    """dy/dt and |∂(dy/dt)/∂y| (its leading terms), sharing their exponentials."""
    i_mem = math.exp(y)
    i_leak = itau + gaba
    numerator = igain * (ampa + idc - i_leak) - i_leak * i_mem
    total = i_mem + igain
    drive = abs(igain / i_leak * (ampa + idc - i_leak))
    if feedback:
        grow = math.exp(FEEDBACK_EXPONENT * (y - Y_FLOOR))
        numerator += I_0 * grow * total
        slope = 2 * I_0 * grow / i_leak
        drive = drive + slope * total / 2
        stiffness = RATE_PER_AMP * i_leak * (i_mem * (drive + igain) / total ** 2 + slope)
    else:
        stiffness = RATE_PER_AMP * i_leak * (i_mem * (drive + igain) / total ** 2)
    return RATE_PER_AMP * numerator / total, stiffness


@njit(cache=True)
def _rk4_step(y, ampa, gaba, h, k1, itau, igain, idc, tau, cap, feedback):
    half, full = math.exp(-h / (2 * tau)), math.exp(-h / tau)
    a_mid, g_mid, a_end, g_end = ampa * half, gaba * half, ampa * full, gaba * full
    k2 = _rate(min(y + h / 2 * k1, cap), a_mid, g_mid, itau, igain, idc, feedback)
    k3 = _rate(min(y + h / 2 * k2, cap), a_mid, g_mid, itau, igain, idc, feedback)
    k4 = _rate(min(y + h * k3, cap), a_end, g_end, itau, igain, idc, feedback)
    y = min(max(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), Y_FLOOR), cap)
    return y, a_end, g_end


@njit(cache=True)
def _exponential_step(y, ampa, gaba, h, itau, igain, idc, tau, cap, feedback):
    """Exponential Euler, y + h·φ1(h·J)·f with the synapses at mid-step (stable where stiff)."""
    half, full = math.exp(-h / (2 * tau)), math.exp(-h / tau)
    a_mid, g_mid = ampa * half, gaba * half
    delta = 1e-6
    f = _rate(y, a_mid, g_mid, itau, igain, idc, feedback)
    jacobian = (_rate(y + delta, a_mid, g_mid, itau, igain, idc, feedback) - f) / delta
    z = h * jacobian
    phi = 1.0 if abs(z) < 1e-8 else math.expm1(z) / z
    y = min(max(y + h * phi * f, Y_FLOOR), cap)
    return y, ampa * full, gaba * full


@njit(cache=True)
def _advance(y, ampa, gaba, total, itau, igain, idc, tau, threshold, cap, bend, feedback):
    """(y, ampa, gaba, crossing) after `total` seconds in sub-steps chosen as it goes:
    y moves by at most MAX_Y_STEP where a step could jump the bend at Igain_mem, RK4 steps are
    short for the local rate, a stiff relaxation takes the exponential step. `crossing`: the
    time (s) at which y reached the threshold, linear within its sub-step (NaN if it did not);
    the neuron stops there."""
    crossing = np.nan
    remaining = total
    shortest = remaining / MAX_SUBSTEPS
    if not remaining > 0:
        return y, ampa, gaba, crossing
    while True:
        left = remaining
        rate, stiffness = _rate_and_stiffness(y, ampa, gaba, itau, igain, idc, feedback)
        below = y < bend
        speed = max(rate, 0.0) if below else max(-rate, 0.0)
        h_move = MAX_Y_STEP / max(speed, 1e-300)
        h_stable = MAX_STEP_RATE / max(stiffness, 1e-300)
        stiff = (h_stable < min(h_move, left)) and (below or rate <= 0)
        if stiff:
            h = MAX_Y_STEP / max(abs(rate), 1e-300)
        else:
            h = min(h_move, h_stable * _ACCURATE)
        h = min(h, left)
        h = max(h, min(shortest, left))
        if h >= left * _ALMOST_ALL:
            h = left
        if stiff:
            y_new, a_new, g_new = _exponential_step(y, ampa, gaba, h, itau, igain, idc, tau,
                                                    cap, feedback)
        else:
            y_new, a_new, g_new = _rk4_step(y, ampa, gaba, h, rate, itau, igain, idc, tau, cap,
                                            feedback)
        if y_new >= threshold:
            fraction = min(max((threshold - y) / max(y_new - y, 1e-300), 0.0), 1.0)
            crossing = total - left + fraction * h
            h = left
        y, ampa, gaba = y_new, a_new, g_new
        remaining = left - h
        if not h < left:
            return y, ampa, gaba, crossing


@njit(cache=True)
def _integrate_neuron(k, state, t0, t1, d_time, d_ampa, d_gaba, constants, feedback, spikes):
    """Neuron k from t0 to t1 through its own segments, from state (y, ampa, gaba,
    refractory_until) at t0 with deliveries (merged, in time order); writes its spike times
    into `spikes` and returns (y, ampa, gaba, refractory_until, number of spikes) at t1."""
    itau, igain, idc = constants[0, k], constants[1, k], constants[2, k]
    tau, threshold, cap = constants[3, k], constants[4, k], constants[5, k]
    bend, t_ref = constants[6, k], constants[7, k]
    y, ampa, gaba, refractory_until = state
    t = t0
    p, n_deliveries, n_spikes = 0, len(d_time), 0
    while True:
        while p < n_deliveries and d_time[p] <= t:
            ampa += d_ampa[p]
            gaba += d_gaba[p]
            p += 1
        b = d_time[p] if p < n_deliveries else t1
        closed = refractory_until > t
        if closed and refractory_until < b:
            b = refractory_until
        h_s = (b - t) * 1e-3
        decay = math.exp(-h_s / tau)
        a1, g1, y1 = ampa * decay, gaba * decay, Y_FLOOR
        crossing = np.nan
        if not closed and (y > Y_FLOOR or _rate(y, ampa, gaba, itau, igain, idc, feedback) > 0
                           or _rate(y, a1, g1, itau, igain, idc, feedback) > 0):
            y1, a1, g1, crossing = _advance(y, ampa, gaba, h_s, itau, igain, idc, tau,
                                            threshold, cap, bend, feedback)
        if crossing == crossing:
            when = t + crossing * 1e3
            back = math.exp(-crossing / tau)
            a1, g1, y1 = ampa * back, gaba * back, Y_FLOOR
            t_new = when
            refractory_until = when + t_ref
            if n_spikes == len(spikes):
                raise RuntimeError("chip model: more spikes in one step than its refractory "
                                   "periods allow")
            spikes[n_spikes] = when
            n_spikes += 1
        else:
            t_new = b
        y, ampa, gaba, t = y1, a1, g1, t_new
        if not t_new < t1:
            return y, ampa, gaba, refractory_until, n_spikes


@njit(cache=True)
def _target_deliveries(k, p0, p1, in_time, in_ampa, in_gaba, rec_start, rec_source,
                       rec_jump, rec_excitatory, step_count, step_times):
    """Neuron k's deliveries in a step: its input deliveries in_*[p0:p1] (merged per time,
    in time order) and the step's spikes of its source neurons, summed per time in the NumPy
    model's order (inputs, then sources by index, each in time order)."""
    n_spike = 0
    for e in range(rec_start[k], rec_start[k + 1]):
        n_spike += step_count[rec_source[e]]
    s_time, s_jump = np.empty(n_spike), np.empty(n_spike)
    s_excitatory = np.empty(n_spike, dtype=np.bool_)
    m = 0
    for e in range(rec_start[k], rec_start[k + 1]):
        source = rec_source[e]
        for q in range(step_count[source]):
            # Insertion by time, after equal times: a stable sort of (sources, spikes) order.
            at = m
            when = step_times[source, q]
            while at > 0 and s_time[at - 1] > when:
                s_time[at], s_jump[at] = s_time[at - 1], s_jump[at - 1]
                s_excitatory[at] = s_excitatory[at - 1]
                at -= 1
            s_time[at], s_jump[at], s_excitatory[at] = when, rec_jump[e], rec_excitatory[e]
            m += 1
    size = p1 - p0 + n_spike
    d_time, d_ampa, d_gaba = np.empty(size), np.empty(size), np.empty(size)
    i, j, n = p0, 0, 0
    while i < p1 or j < n_spike:
        if j >= n_spike or (i < p1 and in_time[i] <= s_time[j]):
            when, ampa, gaba = in_time[i], in_ampa[i], in_gaba[i]
            i += 1
        else:
            when, ampa, gaba = s_time[j], 0.0, 0.0
        while j < n_spike and s_time[j] == when:
            if s_excitatory[j]:
                ampa += s_jump[j]
                gaba += 0.0
            else:
                ampa += 0.0
                gaba += s_jump[j]
            j += 1
        d_time[n], d_ampa[n], d_gaba[n] = when, ampa, gaba
        n += 1
    return d_time[:n], d_ampa[:n], d_gaba[:n]


@njit(cache=True)
def run_steps(n_steps, dt_ms, duration_ms, constants, feedback, in_start, in_time, in_ampa,
              in_gaba, out_start, out_target, rec_start, rec_source, rec_jump, rec_excitatory,
              per_step):
    """All steps; returns (spiking neuron, spike time) in the order found, and the number of
    steps that did not settle. constants: rows Itau_mem, Igain_mem, Idc, τ_syn (s), ln Ispkthr,
    its cap, the bend, t_ref (ms). in_*: merged input deliveries grouped by target (in_start)
    and in time order; out_*: each source neuron's targets; rec_*: each target's incoming
    neuron entries by source; per_step: the most spikes a neuron can fire in one step."""
    n = constants.shape[1]
    y, ampa = np.full(n, Y_FLOOR), np.zeros(n)
    gaba, refractory = np.zeros(n), np.full(n, -np.inf)
    y_end, ampa_end, gaba_end, refractory_end = y.copy(), ampa.copy(), gaba.copy(), \
        refractory.copy()
    step_count = np.zeros(n, dtype=np.int64)
    step_times = np.empty((n, per_step))
    new_count = np.zeros(n, dtype=np.int64)
    new_times = np.empty((n, per_step))
    pointer = in_start[:n].copy()
    step_end = in_start[:n].copy()
    mark = np.zeros(n, dtype=np.bool_)
    changed = np.empty(n, dtype=np.int64)
    targets = np.empty(n, dtype=np.int64)
    out_neuron = np.empty(1024, dtype=np.int64)
    out_time = np.empty(1024)
    n_out, unsettled = 0, 0
    for step in range(n_steps):
        t0, t1 = step * dt_ms, min((step + 1) * dt_ms, duration_ms)
        if t1 <= t0:
            continue
        n_changed = 0
        for k in range(n):
            e = pointer[k]
            while e < in_start[k + 1] and in_time[e] < t1:
                e += 1
            step_end[k] = e
            y_end[k], ampa_end[k], gaba_end[k], refractory_end[k], step_count[k] = \
                _integrate_neuron(k, (y[k], ampa[k], gaba[k], refractory[k]), t0, t1,
                                  in_time[pointer[k]:e], in_ampa[pointer[k]:e],
                                  in_gaba[pointer[k]:e], constants, feedback, step_times[k])
            if step_count[k]:
                changed[n_changed] = k
                n_changed += 1
        settled = False
        for _ in range(MAX_PASSES):
            if n_changed == 0:
                settled = True
                break
            n_targets = 0
            for c in range(n_changed):
                source = changed[c]
                for e in range(out_start[source], out_start[source + 1]):
                    target = out_target[e]
                    if not mark[target]:
                        mark[target] = True
                        targets[n_targets] = target
                        n_targets += 1
            if n_targets == 0:
                settled = True
                break
            chosen = np.sort(targets[:n_targets])
            for k in chosen:
                mark[k] = False
                d_time, d_ampa, d_gaba = _target_deliveries(
                    k, pointer[k], step_end[k], in_time, in_ampa, in_gaba, rec_start,
                    rec_source, rec_jump, rec_excitatory, step_count, step_times)
                y_end[k], ampa_end[k], gaba_end[k], refractory_end[k], new_count[k] = \
                    _integrate_neuron(k, (y[k], ampa[k], gaba[k], refractory[k]), t0, t1,
                                      d_time, d_ampa, d_gaba, constants, feedback,
                                      new_times[k])
            n_changed = 0
            for k in chosen:
                same = new_count[k] == step_count[k]
                if same:
                    for q in range(new_count[k]):
                        if abs(new_times[k, q] - step_times[k, q]) > SETTLED_MS:
                            same = False
                if not same:
                    changed[n_changed] = k
                    n_changed += 1
                step_count[k] = new_count[k]
                step_times[k, :new_count[k]] = new_times[k, :new_count[k]]
        if not settled:
            unsettled += 1
        for k in range(n):
            pointer[k] = step_end[k]
            y[k], ampa[k], gaba[k] = y_end[k], ampa_end[k], gaba_end[k]
            refractory[k] = refractory_end[k]
            for q in range(step_count[k]):
                if n_out == len(out_neuron):
                    out_neuron = np.concatenate((out_neuron, np.empty_like(out_neuron)))
                    out_time = np.concatenate((out_time, np.empty_like(out_time)))
                out_neuron[n_out], out_time[n_out] = k, step_times[k, q]
                n_out += 1
    return out_neuron[:n_out], out_time[:n_out], unsettled
