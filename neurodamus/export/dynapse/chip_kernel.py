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
_I_MEM_FLOOR = math.exp(Y_FLOOR)         # e^y at the floor, as the C library gives it
# error_model="numpy": a division by zero gives inf or NaN, as in NumPy, instead of a check
# and an exception at every division.
_compiled = njit(cache=True, error_model="numpy")


@_compiled
def _rate_at(i_mem, grow, ampa, gaba, itau, igain, idc, feedback):
    """dy/dt of an open neuron at I_mem = e^y, grow = e^(κ'/κ·(y − ln I_0)) (chip_model's
    docstring has the model)."""
    i_leak = itau + gaba
    numerator = igain * (ampa + idc - i_leak) - i_leak * i_mem
    total = i_mem + igain
    if feedback:
        numerator += I_0 * grow * total
    return RATE_PER_AMP * numerator / total


@_compiled
def _rate(y, ampa, gaba, itau, igain, idc, feedback):
    grow = math.exp(FEEDBACK_EXPONENT * (y - Y_FLOOR)) if feedback else 1.0
    return _rate_at(math.exp(y), grow, ampa, gaba, itau, igain, idc, feedback)


@_compiled
def _stiffness_at(i_mem, grow, ampa, gaba, itau, igain, idc, feedback):
    """|∂(dy/dt)/∂y| (its leading terms), to choose the sub-step."""
    i_leak = itau + gaba
    drive = abs(igain / i_leak * (ampa + idc - i_leak))
    total = i_mem + igain
    if feedback:
        slope = 2 * I_0 * grow / i_leak
        drive = drive + slope * total / 2
        return RATE_PER_AMP * i_leak * (i_mem * (drive + igain) / total ** 2 + slope)
    return RATE_PER_AMP * i_leak * (i_mem * (drive + igain) / total ** 2)


@_compiled
def _synapse_decay(h, tau, step):
    """(e^(−h/2τ), e^(−h/τ)); step = (h_step, its two values) saves the exponentials of the
    most common h, a whole step (the same arguments, so the same values)."""
    if h == step[0]:
        return step[1], step[2]
    return math.exp(-h / (2 * tau)), math.exp(-h / tau)


@_compiled
def _rk4_step(y, ampa, gaba, h, k1, itau, igain, idc, tau, cap, feedback, step):
    half, full = _synapse_decay(h, tau, step)
    a_mid, g_mid, a_end, g_end = ampa * half, gaba * half, ampa * full, gaba * full
    k2 = _rate(min(y + h / 2 * k1, cap), a_mid, g_mid, itau, igain, idc, feedback)
    k3 = _rate(min(y + h / 2 * k2, cap), a_mid, g_mid, itau, igain, idc, feedback)
    k4 = _rate(min(y + h * k3, cap), a_end, g_end, itau, igain, idc, feedback)
    y = min(max(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), Y_FLOOR), cap)
    return y, a_end, g_end


@_compiled
def _exponential_step(y, i_mem, grow, ampa, gaba, h, itau, igain, idc, tau, cap, feedback,
                      step):
    """Exponential Euler, y + h·φ1(h·J)·f with the synapses at mid-step (stable where stiff);
    i_mem and grow are e^y and the feedback's exponential at y."""
    half, full = _synapse_decay(h, tau, step)
    a_mid, g_mid = ampa * half, gaba * half
    delta = 1e-6
    f = _rate_at(i_mem, grow, a_mid, g_mid, itau, igain, idc, feedback)
    jacobian = (_rate(y + delta, a_mid, g_mid, itau, igain, idc, feedback) - f) / delta
    z = h * jacobian
    phi = 1.0 if abs(z) < 1e-8 else math.expm1(z) / z
    y = min(max(y + h * phi * f, Y_FLOOR), cap)
    return y, ampa * full, gaba * full


@_compiled
def _advance(y, ampa, gaba, total, itau, igain, idc, tau, threshold, cap, bend, feedback,
             step):
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
        i_mem = math.exp(y)
        grow = math.exp(FEEDBACK_EXPONENT * (y - Y_FLOOR)) if feedback else 1.0
        rate = _rate_at(i_mem, grow, ampa, gaba, itau, igain, idc, feedback)
        stiffness = _stiffness_at(i_mem, grow, ampa, gaba, itau, igain, idc, feedback)
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
            y_new, a_new, g_new = _exponential_step(y, i_mem, grow, ampa, gaba, h, itau, igain,
                                                    idc, tau, cap, feedback, step)
        else:
            y_new, a_new, g_new = _rk4_step(y, ampa, gaba, h, rate, itau, igain, idc, tau, cap,
                                            feedback, step)
        if y_new >= threshold:
            fraction = min(max((threshold - y) / max(y_new - y, 1e-300), 0.0), 1.0)
            crossing = total - left + fraction * h
            h = left
        y, ampa, gaba = y_new, a_new, g_new
        remaining = left - h
        if not h < left:
            return y, ampa, gaba, crossing


@_compiled
def _integrate(neurons, d_time, d_ampa, d_gaba, d_start, d_end, t0, t1, start, end, constants,
               feedback, step, spikes):
    """Each neuron k of `neurons` from t0 to t1 through its own segments: from its state
    start[:, k] (y, ampa, gaba, refractory_until) at t0, with its deliveries
    d_*[d_start[i]:d_end[i]] (merged, in time order). Writes its state at t1 into end[:, k],
    its spikes into spikes[k] and returns nothing. step[:, k]: h of a whole step and the
    synaptic decays over h/2 and h for k's τ_syn.

    One call per step or pass, a loop over neurons inside: a call with array arguments, or a
    slice, updates reference counts atomically, which cost more than a quiet neuron's
    arithmetic when it was done per neuron."""
    count = spikes.shape[1] - 1          # spikes[k, 0] is the number of spikes
    for i in range(len(neurons)):
        k = neurons[i]
        itau, igain, idc = constants[0, k], constants[1, k], constants[2, k]
        tau, threshold, cap = constants[3, k], constants[4, k], constants[5, k]
        bend, t_ref = constants[6, k], constants[7, k]
        y, ampa, gaba, refractory_until = start[0, k], start[1, k], start[2, k], start[3, k]
        h_step, e_half, e_full = step[0, k], step[1, k], step[2, k]
        t = t0
        p, p1, n_spikes = d_start[i], d_end[i], 0
        while True:
            while p < p1 and d_time[p] <= t:
                ampa += d_ampa[p]
                gaba += d_gaba[p]
                p += 1
            b = d_time[p] if p < p1 else t1
            closed = refractory_until > t
            if closed and refractory_until < b:
                b = refractory_until
            h_s = (b - t) * 1e-3
            decay = e_full if h_s == h_step else math.exp(-h_s / tau)
            a1, g1, y1 = ampa * decay, gaba * decay, Y_FLOOR
            crossing = np.nan
            # Open and able to move: above I_0, or driven up at either end of the segment.
            if not closed and (
                    y > Y_FLOOR
                    or _rate_at(_I_MEM_FLOOR, 1.0, ampa, gaba, itau, igain, idc, feedback) > 0
                    or _rate_at(_I_MEM_FLOOR, 1.0, a1, g1, itau, igain, idc, feedback) > 0):
                y1, a1, g1, crossing = _advance(y, ampa, gaba, h_s, itau, igain, idc, tau,
                                                threshold, cap, bend, feedback,
                                                (h_step, e_half, e_full))
            if crossing == crossing:
                when = t + crossing * 1e3
                back = math.exp(-crossing / tau)
                a1, g1, y1 = ampa * back, gaba * back, Y_FLOOR
                t_new = when
                refractory_until = when + t_ref
                if n_spikes == count:
                    raise RuntimeError("chip model: more spikes in one step than its "
                                       "refractory periods allow")
                n_spikes += 1
                spikes[k, n_spikes] = when
            else:
                t_new = b
            y, ampa, gaba, t = y1, a1, g1, t_new
            if not t_new < t1:
                break
        end[0, k], end[1, k], end[2, k], end[3, k] = y, ampa, gaba, refractory_until
        spikes[k, 0] = n_spikes


@_compiled
def _target_deliveries(targets, pointer, step_end, in_time, in_ampa, in_gaba, rec_start,
                       rec_source, rec_jump, rec_excitatory, spikes):
    """The deliveries of each neuron of `targets` in a step, one after the other:
    (time, ampa, gaba, start, end). A target's are its input deliveries in_*[pointer:step_end]
    (merged per time, in time order) and the step's spikes of its source neurons (spikes[s]:
    count, times), summed per time in the NumPy model's order (inputs, then sources by index,
    each in time order)."""
    size, widest = 0, 0
    for k in targets:
        n_spike = 0
        for e in range(rec_start[k], rec_start[k + 1]):
            n_spike += int(spikes[rec_source[e], 0])
        size += step_end[k] - pointer[k] + n_spike
        widest = max(widest, n_spike)
    d_time, d_ampa, d_gaba = np.empty(size), np.empty(size), np.empty(size)
    d_start = np.empty(len(targets), dtype=np.int64)
    d_end = np.empty(len(targets), dtype=np.int64)
    s_time, s_jump = np.empty(widest), np.empty(widest)
    s_excitatory = np.empty(widest, dtype=np.bool_)
    n = 0
    for t_index in range(len(targets)):
        k = targets[t_index]
        m = 0
        for e in range(rec_start[k], rec_start[k + 1]):
            source = rec_source[e]
            for q in range(int(spikes[source, 0])):
                # Insertion by time, after equal times: a stable sort of (source, spike).
                at = m
                when = spikes[source, q + 1]
                while at > 0 and s_time[at - 1] > when:
                    s_time[at], s_jump[at] = s_time[at - 1], s_jump[at - 1]
                    s_excitatory[at] = s_excitatory[at - 1]
                    at -= 1
                s_time[at], s_jump[at], s_excitatory[at] = when, rec_jump[e], rec_excitatory[e]
                m += 1
        d_start[t_index] = n
        i, p1, j = pointer[k], step_end[k], 0
        while i < p1 or j < m:
            if j >= m or (i < p1 and in_time[i] <= s_time[j]):
                when, ampa, gaba = in_time[i], in_ampa[i], in_gaba[i]
                i += 1
            else:
                when, ampa, gaba = s_time[j], 0.0, 0.0
            while j < m and s_time[j] == when:
                if s_excitatory[j]:
                    ampa += s_jump[j]
                    gaba += 0.0
                else:
                    ampa += 0.0
                    gaba += s_jump[j]
                j += 1
            d_time[n], d_ampa[n], d_gaba[n] = when, ampa, gaba
            n += 1
        d_end[t_index] = n
    return d_time, d_ampa, d_gaba, d_start, d_end


@_compiled
def run_steps(n_steps, dt_ms, duration_ms, constants, feedback, in_start, in_time, in_ampa,
              in_gaba, out_start, out_target, rec_start, rec_source, rec_jump, rec_excitatory,
              tau_values, tau_class, per_step):
    """All steps; returns (spiking neuron, spike time) in the order found, and the number of
    steps that did not settle. constants: rows Itau_mem, Igain_mem, Idc, τ_syn (s), ln Ispkthr,
    its cap, the bend, t_ref (ms). in_*: merged input deliveries grouped by target (in_start)
    and in time order; out_*: each source neuron's targets; rec_*: each target's incoming
    neuron entries by source; tau_values[tau_class]: each neuron's τ_syn (s), from the distinct
    values; per_step: the most spikes a neuron can fire in one step."""
    n = constants.shape[1]
    everyone = np.arange(n)
    state = np.empty((4, n))
    state[0], state[1], state[2], state[3] = Y_FLOOR, 0.0, 0.0, -np.inf
    end = state.copy()
    spikes = np.zeros((n, per_step + 1))           # per neuron: count, then times
    again = np.zeros((n, per_step + 1))
    step = np.empty((3, n))
    step_half, step_full = np.empty(len(tau_values)), np.empty(len(tau_values))
    pointer = in_start[:n].copy()
    step_end = in_start[:n].copy()
    mark = np.zeros(n, dtype=np.bool_)
    changed = np.empty(n, dtype=np.int64)
    targets = np.empty(n, dtype=np.int64)
    out_neuron = np.empty(1024, dtype=np.int64)
    out_time = np.empty(1024)
    n_out, unsettled = 0, 0
    for n_step in range(n_steps):
        t0, t1 = n_step * dt_ms, min((n_step + 1) * dt_ms, duration_ms)
        if t1 <= t0:
            continue
        h_step = (t1 - t0) * 1e-3
        for c in range(len(tau_values)):
            step_half[c] = math.exp(-h_step / (2 * tau_values[c]))
            step_full[c] = math.exp(-h_step / tau_values[c])
        for k in range(n):
            step[0, k] = h_step
            step[1, k], step[2, k] = step_half[tau_class[k]], step_full[tau_class[k]]
            e = pointer[k]
            while e < in_start[k + 1] and in_time[e] < t1:
                e += 1
            step_end[k] = e
        _integrate(everyone, in_time, in_ampa, in_gaba, pointer, step_end, t0, t1, state, end,
                   constants, feedback, step, spikes)
        n_changed = 0
        for k in range(n):
            if spikes[k, 0]:
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
            for i in range(n_targets):
                mark[chosen[i]] = False
            d_time, d_ampa, d_gaba, d_start, d_end = _target_deliveries(
                chosen, pointer, step_end, in_time, in_ampa, in_gaba, rec_start, rec_source,
                rec_jump, rec_excitatory, spikes)
            _integrate(chosen, d_time, d_ampa, d_gaba, d_start, d_end, t0, t1, state, end,
                       constants, feedback, step, again)
            n_changed = 0
            for i in range(n_targets):
                k = chosen[i]
                same = again[k, 0] == spikes[k, 0]
                if same:
                    for q in range(1, int(again[k, 0]) + 1):
                        if abs(again[k, q] - spikes[k, q]) > SETTLED_MS:
                            same = False
                if not same:
                    changed[n_changed] = k
                    n_changed += 1
                spikes[k, :int(again[k, 0]) + 1] = again[k, :int(again[k, 0]) + 1]
        if not settled:
            unsettled += 1
        state[:, :] = end
        for k in range(n):
            pointer[k] = step_end[k]
            for q in range(1, int(spikes[k, 0]) + 1):
                if n_out == len(out_neuron):
                    out_neuron = np.concatenate((out_neuron, np.empty_like(out_neuron)))
                    out_time = np.concatenate((out_time, np.empty_like(out_time)))
                out_neuron[n_out], out_time[n_out] = k, spikes[k, q]
                n_out += 1
    return out_neuron[:n_out], out_time[:n_out], unsettled
