COMMENT
Excitatory synapse of neurodamus: AMPA + NMDA conductances with dual-exponential
kinetics, NMDA magnesium block, and Tsodyks-Markram short-term plasticity
(deterministic: each presynaptic event releases the expected fraction u*R of the
resources).

Conventions
- NetCon weight[0] is the peak conductance of the AMPA component in nS for a full
  release (u*R = 1); the NMDA peak is NMDA_ratio times it.
- tau_d_AMPA is set from the edge attribute decay_time.
- Use, Dep, Fac come from u_syn, depression_time, facilitation_time.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdTmExc
    RANGE tau_r_AMPA, tau_d_AMPA, tau_r_NMDA, tau_d_NMDA, NMDA_ratio
    RANGE Use, Dep, Fac, Nrrp, e, mg
    RANGE g, g_AMPA, g_NMDA, i, i_AMPA, i_NMDA, mgblock, last_release
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
    (mM) = (milli/liter)
}

PARAMETER {
    tau_r_AMPA = 0.2 (ms)
    tau_d_AMPA = 1.7 (ms)
    tau_r_NMDA = 0.29 (ms)
    tau_d_NMDA = 43 (ms)
    NMDA_ratio = 0.71 (1)
    Use = 0.5 (1)        : utilisation of synaptic efficacy
    Dep = 670 (ms)       : recovery from depression
    Fac = 17 (ms)        : relaxation of facilitation
    Nrrp = 1 (1)         : release sites (used by the stochastic mode, issue 3)
    e = 0 (mV)
    mg = 1 (mM)
}

ASSIGNED {
    v (mV)
    i (nA)
    i_AMPA (nA)
    i_NMDA (nA)
    g (uS)
    g_AMPA (uS)
    g_NMDA (uS)
    mgblock (1)
    factor_AMPA (1)
    factor_NMDA (1)
    last_release (1)
}

STATE {
    A_AMPA (uS)
    B_AMPA (uS)
    A_NMDA (uS)
    B_NMDA (uS)
}

INITIAL {
    A_AMPA = 0
    B_AMPA = 0
    A_NMDA = 0
    B_NMDA = 0
    factor_AMPA = peak_normaliser(tau_r_AMPA, tau_d_AMPA)
    factor_NMDA = peak_normaliser(tau_r_NMDA, tau_d_NMDA)
    last_release = 0
}

BREAKPOINT {
    SOLVE kinetics METHOD cnexp
    mgblock = 1 / (1 + exp(-0.062 * v) * (mg / 3.57))
    g_AMPA = B_AMPA - A_AMPA
    g_NMDA = (B_NMDA - A_NMDA) * mgblock
    g = g_AMPA + g_NMDA
    i_AMPA = g_AMPA * (v - e)
    i_NMDA = g_NMDA * (v - e)
    i = i_AMPA + i_NMDA
}

DERIVATIVE kinetics {
    A_AMPA' = -A_AMPA / tau_r_AMPA
    B_AMPA' = -B_AMPA / tau_d_AMPA
    A_NMDA' = -A_NMDA / tau_r_NMDA
    B_NMDA' = -B_NMDA / tau_d_NMDA
}

FUNCTION peak_normaliser(tau_r (ms), tau_d (ms)) (1) {
    : scale so that exp(-t/tau_d) - exp(-t/tau_r) peaks at 1
    LOCAL t_peak
    t_peak = (tau_r * tau_d) / (tau_d - tau_r) * log(tau_d / tau_r)
    peak_normaliser = 1 / (exp(-t_peak / tau_d) - exp(-t_peak / tau_r))
}

NET_RECEIVE (weight (nS), R (1), u (1), t_last (ms)) {
    LOCAL released, amp_AMPA
    INITIAL {
        R = 1
        u = 0
        t_last = -1e9
    }
    : Tsodyks-Markram: facilitation relaxes to 0, then jumps by Use*(1-u);
    : resources recover towards 1 with Dep.
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
    amp_AMPA = 0.001 * weight * released
    A_AMPA = A_AMPA + amp_AMPA * factor_AMPA
    B_AMPA = B_AMPA + amp_AMPA * factor_AMPA
    A_NMDA = A_NMDA + amp_AMPA * NMDA_ratio * factor_NMDA
    B_NMDA = B_NMDA + amp_AMPA * NMDA_ratio * factor_NMDA
}
