COMMENT
Inhibitory synapse of neurodamus: GABA_A (and, when GABAB_ratio > 0, GABA_B)
conductances with dual-exponential kinetics, and Tsodyks-Markram short-term plasticity
with a pool of Nrrp release sites: the same release model as NdTmExc (stochastic by
default, expected values when deterministic = 1), Random123 stream `release_rng`, and
spontaneous releases (minis) at minis_rate from the stream `minis_rng` (an interval shorter
than dt is stretched to dt, as in NdTmExc: CoreNEURON aborts on an overdue self-event).

Conventions
- NetCon weight[0] is the peak GABA_A conductance in nS for a full release; the GABA_B
  peak is GABAB_ratio times it.
- tau_d_GABAA is set from the edge attribute decay_time.

Numerics (as NdTmExc; fixed step only)
- A step multiplies each state by exp(-dt/tau) (what cnexp computes, up to round-off),
  with the four factors kept from INITIAL (decay_*) and recomputed only when dt or a time
  constant differs from the values they were computed for (the *_seen variables).
- The current is linear in v, so its conductance g is given to the matrix directly
  (CONDUCTANCE hint) and the current is evaluated once per step, not at v and v + 0.001.
- g and the currents are computed in BREAKPOINT from the states at the start of the step.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdTmInh
    RANGE tau_r_GABAA, tau_d_GABAA, tau_r_GABAB, tau_d_GABAB, GABAB_ratio
    RANGE Use, Dep, Fac, Nrrp, e_GABAA, e_GABAB
    RANGE g, g_GABAA, g_GABAB, i, i_GABAA, i_GABAB, last_release
    RANGE u, R, occupied, t_last, minis_rate, minis_weight
    GLOBAL deterministic, init_depleted
    NONSPECIFIC_CURRENT i
    RANDOM release_rng, minis_rng
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau_r_GABAA = 0.2 (ms)
    tau_d_GABAA = 8 (ms)
    tau_r_GABAB = 3.5 (ms)
    tau_d_GABAB = 260.9 (ms)
    GABAB_ratio = 0 (1)
    Use = 0.25 (1)
    Dep = 700 (ms)
    Fac = 0 (ms)
    Nrrp = 1 (1)
    e_GABAA = -80 (mV)
    e_GABAB = -97 (mV)
    deterministic = 0 (1)
    init_depleted = 0 (1)
    minis_rate = 0 (/s)      : spontaneous releases per second (Poisson)
    minis_weight = 0 (nS)    : weight of a spontaneous release (the NetCon weight)
}

ASSIGNED {
    v (mV)
    i (nA)
    i_GABAA (nA)
    i_GABAB (nA)
    g (uS)
    g_GABAA (uS)
    g_GABAB (uS)
    factor_GABAA (1)
    factor_GABAB (1)
    decay_A_GABAA (1) : exp(-dt/tau) of each state, for dt_seen and the taus *_seen
    decay_B_GABAA (1)
    decay_A_GABAB (1)
    decay_B_GABAB (1)
    dt_seen (ms)
    tau_r_GABAA_seen (ms)
    tau_d_GABAA_seen (ms)
    tau_r_GABAB_seen (ms)
    tau_d_GABAB_seen (ms)
    last_release (1)
    u (1)
    R (1)
    occupied (1)
    t_last (ms)
}

STATE {
    A_GABAA (uS)
    B_GABAA (uS)
    A_GABAB (uS)
    B_GABAB (uS)
}

INITIAL {
    A_GABAA = 0
    B_GABAA = 0
    A_GABAB = 0
    B_GABAB = 0
    factor_GABAA = peak_normaliser(tau_r_GABAA, tau_d_GABAA)
    factor_GABAB = peak_normaliser(tau_r_GABAB, tau_d_GABAB)
    decay_factors()
    u = 0
    t_last = -1e9
    if (init_depleted) {
        R = 0
        occupied = 0
    } else {
        R = 1
        occupied = Nrrp
    }
    last_release = 0
    if (minis_rate > 0) {
        net_send(next_mini_interval(), 1)
    }
}

BREAKPOINT {
    SOLVE decay
    g_GABAA = B_GABAA - A_GABAA
    g_GABAB = B_GABAB - A_GABAB
    g = g_GABAA + g_GABAB
    i_GABAA = g_GABAA * (v - e_GABAA)
    i_GABAB = g_GABAB * (v - e_GABAB)
    i = i_GABAA + i_GABAB
    CONDUCTANCE g
}

PROCEDURE decay() {
    if (dt != dt_seen || tau_r_GABAA != tau_r_GABAA_seen || tau_d_GABAA != tau_d_GABAA_seen
        || tau_r_GABAB != tau_r_GABAB_seen || tau_d_GABAB != tau_d_GABAB_seen) {
        decay_factors()
    }
    A_GABAA = A_GABAA * decay_A_GABAA
    B_GABAA = B_GABAA * decay_B_GABAA
    A_GABAB = A_GABAB * decay_A_GABAB
    B_GABAB = B_GABAB * decay_B_GABAB
}

PROCEDURE decay_factors() {
    decay_A_GABAA = exp(-dt / tau_r_GABAA)
    decay_B_GABAA = exp(-dt / tau_d_GABAA)
    decay_A_GABAB = exp(-dt / tau_r_GABAB)
    decay_B_GABAB = exp(-dt / tau_d_GABAB)
    dt_seen = dt
    tau_r_GABAA_seen = tau_r_GABAA
    tau_d_GABAA_seen = tau_d_GABAA
    tau_r_GABAB_seen = tau_r_GABAB
    tau_d_GABAB_seen = tau_d_GABAB
}

FUNCTION peak_normaliser(tau_r (ms), tau_d (ms)) (1) {
    LOCAL t_peak
    t_peak = (tau_r * tau_d) / (tau_d - tau_r) * log(tau_d / tau_r)
    peak_normaliser = 1 / (exp(-t_peak / tau_d) - exp(-t_peak / tau_r))
}

FUNCTION next_mini_interval() (ms) {
    next_mini_interval = random_negexp(minis_rng) * 1000 / minis_rate
    if (next_mini_interval < dt) {
        : a self-event due before the step that delivers it aborts CoreNEURON
        next_mini_interval = dt
    }
}

FUNCTION recovered_fraction(elapsed (ms)) (1) {
    if (Dep > 0) {
        recovered_fraction = 1 - exp(-elapsed / Dep)
    } else {
        recovered_fraction = 1
    }
}

NET_RECEIVE (weight (nS)) {
    LOCAL w, released, amp, p_recover, empty, n_released, k
    if (Fac > 0) {
        u = u * exp(-(t - t_last) / Fac)
    } else {
        u = 0
    }
    if (flag == 1) {
        : a spontaneous release (self-event), then schedule the next one
        w = minis_weight
        net_send(next_mini_interval(), 1)
    } else {
        w = weight
    }
    u = u + Use * (1 - u)
    p_recover = recovered_fraction(t - t_last)
    if (deterministic) {
        R = R + (1 - R) * p_recover
        released = u * R
        R = R - released
    } else {
        empty = Nrrp - occupied
        k = 0
        while (k < empty) {
            if (random_uniform(release_rng) < p_recover) {
                occupied = occupied + 1
            }
            k = k + 1
        }
        n_released = 0
        k = 0
        while (k < occupied) {
            if (random_uniform(release_rng) < u) {
                n_released = n_released + 1
            }
            k = k + 1
        }
        occupied = occupied - n_released
        released = n_released / Nrrp
    }
    t_last = t
    last_release = released
    amp = 0.001 * w * released
    A_GABAA = A_GABAA + amp * factor_GABAA
    B_GABAA = B_GABAA + amp * factor_GABAA
    A_GABAB = A_GABAB + amp * GABAB_ratio * factor_GABAB
    B_GABAB = B_GABAB + amp * GABAB_ratio * factor_GABAB
}
