COMMENT
Inhibitory synapse of neurodamus: GABA_A conductance with dual-exponential kinetics
and Tsodyks-Markram short-term plasticity (deterministic: each presynaptic event
releases the expected fraction u*R of the resources).

Conventions
- NetCon weight[0] is the peak conductance in nS for a full release (u*R = 1).
- tau_d_GABAA is set from the edge attribute decay_time.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdTmInh
    RANGE tau_r_GABAA, tau_d_GABAA
    RANGE Use, Dep, Fac, Nrrp, e
    RANGE g, g_GABAA, i, last_release
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau_r_GABAA = 0.2 (ms)
    tau_d_GABAA = 8 (ms)
    Use = 0.25 (1)
    Dep = 700 (ms)
    Fac = 0 (ms)
    Nrrp = 1 (1)
    e = -80 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    g_GABAA (uS)
    factor (1)
    last_release (1)
}

STATE {
    A (uS)
    B (uS)
}

INITIAL {
    A = 0
    B = 0
    factor = peak_normaliser(tau_r_GABAA, tau_d_GABAA)
    last_release = 0
}

BREAKPOINT {
    SOLVE kinetics METHOD cnexp
    g_GABAA = B - A
    g = g_GABAA
    i = g * (v - e)
}

DERIVATIVE kinetics {
    A' = -A / tau_r_GABAA
    B' = -B / tau_d_GABAA
}

FUNCTION peak_normaliser(tau_r (ms), tau_d (ms)) (1) {
    LOCAL t_peak
    t_peak = (tau_r * tau_d) / (tau_d - tau_r) * log(tau_d / tau_r)
    peak_normaliser = 1 / (exp(-t_peak / tau_d) - exp(-t_peak / tau_r))
}

NET_RECEIVE (weight (nS), R (1), u (1), t_last (ms)) {
    LOCAL released, amp
    INITIAL {
        R = 1
        u = 0
        t_last = -1e9
    }
    if (Fac > 0) {
        u = u * exp(-(t - t_last) / Fac)
    } else {
        u = 0
    }
    u = u + Use * (1 - u)
    R = 1 - (1 - R) * exp(-(t - t_last) / Dep)
    released = u * R
    R = R - released
    t_last = t
    last_release = released
    amp = 0.001 * weight * released
    A = A + amp * factor
    B = B + amp * factor
}
