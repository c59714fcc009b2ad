COMMENT
Excitatory synapse of neurodamus: AMPA + NMDA conductances with dual-exponential
kinetics, NMDA magnesium block 1 / (1 + exp(-0.062 v) mg / 3.57), and Tsodyks-Markram
short-term plasticity with a pool of Nrrp release sites.

Release (per presynaptic event, spikes and minis alike):
- u (utilisation) relaxes to 0 with Fac, then jumps by Use (1 - u); u = Use if Fac = 0.
- stochastic (deterministic = 0): each empty site has recovered since the last event
  with probability 1 - exp(-dt/Dep); each occupied site then releases with
  probability u. The released fraction is (released sites) / Nrrp.
- deterministic (deterministic = 1): the expected values, i.e. the classic TM
  recurrence on the fraction R of occupied sites: released = u R.
Spontaneous releases (minis) are self-events of the synapse at Poisson times of rate
minis_rate (Hz) with weight minis_weight, going through the same release model. An
interval shorter than dt (probability about minis_rate * dt) is stretched to dt under both
solvers: CoreNEURON aborts on a self-event due before the step that delivers it.
Random numbers come from the Random123 streams `release_rng` and `minis_rng`, whose ids
the driver sets from (synapse_seed or minis_seed, gid, synapse index), so results do not
depend on the rank count; being part of the synapse, minis are saved with its state.

Conventions
- NetCon weight[0] is the peak AMPA conductance in nS for a full release; the NMDA
  peak is NMDA_ratio times it.
- tau_d_AMPA is set from the edge attribute decay_time; Use, Dep, Fac, Nrrp from
  u_syn, depression_time, facilitation_time, n_rrp_vesicles.

Numerics (fixed step; the cost per synapse and step is what a circuit pays most)
- The four states decay linearly, so a step multiplies each by exp(-dt/tau) (PROCEDURE
  decay, SOLVEd without METHOD): the exact solution cnexp would give, up to round-off.
  The four factors are computed in INITIAL and kept (decay_*), together with the dt and
  time constants they were computed for (the *_seen variables); a step recomputes them
  only when one of those differs, so changing dt or a tau mid-run (a delayed
  synapse_configure) stays right at the price of five comparisons per step. Fixed step
  only: such a SOLVE cannot be used with CVODE (the driver never enables it).
- The current is computed once per step (CONDUCTANCE hint): one Mg-block exp per step,
  where NEURON would evaluate BREAKPOINT at v and at v + 0.001 mV to difference them. The
  conductance given to the matrix (g_slope) is that same difference, (i(v + 0.001) - i(v))
  / 0.001, with the block at v + 0.001 taken from the exp at v times the constant
  exp(-0.062 * 0.001) (written as a number: nocmodl's exp is a call, never folded): the
  implicit step treats the voltage dependence of the block as before, and voltages and
  spikes are those of the two evaluations up to round-off. (g alone would drop the block's
  slope from the matrix: spikes move by several steps. The analytic slope differs from the
  difference by the latter's truncation error, some 1e-5 of the NMDA term, and moves
  voltages by about 1e-4 mV.)
- g, mgblock and the currents are computed in BREAKPOINT from the states at the start of
  the step (a recorded value lags the states by one step, as before).
ENDCOMMENT

NEURON {
    POINT_PROCESS NdTmExc
    RANGE tau_r_AMPA, tau_d_AMPA, tau_r_NMDA, tau_d_NMDA, NMDA_ratio
    RANGE Use, Dep, Fac, Nrrp, e, mg
    RANGE g, g_AMPA, g_NMDA, i, i_AMPA, i_NMDA, mgblock, last_release
    RANGE u, R, occupied, t_last, minis_rate, minis_weight
    GLOBAL deterministic, init_depleted
    NONSPECIFIC_CURRENT i
    RANDOM release_rng, minis_rng
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
    Nrrp = 1 (1)         : release sites
    e = 0 (mV)
    mg = 1 (mM)
    deterministic = 0 (1)
    init_depleted = 0 (1)
    minis_rate = 0 (/s)      : spontaneous releases per second (Poisson)
    minis_weight = 0 (nS)    : weight of a spontaneous release (the NetCon weight)
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
    decay_A_AMPA (1) : exp(-dt/tau) of each state, for dt_seen and the taus *_seen
    decay_B_AMPA (1)
    decay_A_NMDA (1)
    decay_B_NMDA (1)
    dt_seen (ms)
    tau_r_AMPA_seen (ms)
    tau_d_AMPA_seen (ms)
    tau_r_NMDA_seen (ms)
    tau_d_NMDA_seen (ms)
    last_release (1)
    u (1)            : utilisation at the last event
    R (1)            : fraction of occupied sites (deterministic mode)
    occupied (1)     : occupied sites (stochastic mode)
    t_last (ms)      : time of the last event
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
    LOCAL mg_exp, block_up, i_up, g_slope
    SOLVE decay
    mg_exp = exp(-0.062 * v) * (mg / 3.57)
    mgblock = 1 / (1 + mg_exp)
    g_AMPA = B_AMPA - A_AMPA
    g_NMDA = (B_NMDA - A_NMDA) * mgblock
    g = g_AMPA + g_NMDA
    i_AMPA = g_AMPA * (v - e)
    i_NMDA = g_NMDA * (v - e)
    i = i_AMPA + i_NMDA
    : the current at v + 0.001 mV, where the block's exp is the one at v times
    : exp(-0.062 * 0.001) = 0.9999380019219603 (written out: nocmodl's exp is a call)
    block_up = 1 / (1 + mg_exp * 0.9999380019219603)
    i_up = g_AMPA * (v + 0.001 - e) + (B_NMDA - A_NMDA) * block_up * (v + 0.001 - e)
    g_slope = (i_up - i) * 1000 : (i(v + 0.001) - i(v)) / 0.001
    CONDUCTANCE g_slope
}

PROCEDURE decay() {
    if (dt != dt_seen || tau_r_AMPA != tau_r_AMPA_seen || tau_d_AMPA != tau_d_AMPA_seen
        || tau_r_NMDA != tau_r_NMDA_seen || tau_d_NMDA != tau_d_NMDA_seen) {
        decay_factors()
    }
    A_AMPA = A_AMPA * decay_A_AMPA
    B_AMPA = B_AMPA * decay_B_AMPA
    A_NMDA = A_NMDA * decay_A_NMDA
    B_NMDA = B_NMDA * decay_B_NMDA
}

PROCEDURE decay_factors() {
    decay_A_AMPA = exp(-dt / tau_r_AMPA)
    decay_B_AMPA = exp(-dt / tau_d_AMPA)
    decay_A_NMDA = exp(-dt / tau_r_NMDA)
    decay_B_NMDA = exp(-dt / tau_d_NMDA)
    dt_seen = dt
    tau_r_AMPA_seen = tau_r_AMPA
    tau_d_AMPA_seen = tau_d_AMPA
    tau_r_NMDA_seen = tau_r_NMDA
    tau_d_NMDA_seen = tau_d_NMDA
}

FUNCTION peak_normaliser(tau_r (ms), tau_d (ms)) (1) {
    : scale so that exp(-t/tau_d) - exp(-t/tau_r) peaks at 1
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
    LOCAL w, released, amp_AMPA, p_recover, empty, n_released, k
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
    amp_AMPA = 0.001 * w * released
    A_AMPA = A_AMPA + amp_AMPA * factor_AMPA
    B_AMPA = B_AMPA + amp_AMPA * factor_AMPA
    A_NMDA = A_NMDA + amp_AMPA * NMDA_ratio * factor_NMDA
    B_NMDA = B_NMDA + amp_AMPA * NMDA_ratio * factor_NMDA
}
