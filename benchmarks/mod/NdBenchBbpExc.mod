COMMENT
Benchmark stand-in with the interface of a BBP excitatory synapse (ProbAMPANMDA_EMS), written
for neurodamus' synapse-cost benchmark (benchmarks/synapse_cost.py) from the
published model, so that the cost of our NdTmExc can be compared with a mechanism of that
interface and kind of computation without the BBP files:

- AMPA and NMDA conductances, each the difference of two exponentially decaying states
  (rise tau_r, decay tau_d), normalised so that one full release peaks at the weight;
  the states are multiplied each step by exp(-dt/tau) computed in INITIAL, and the current
  is evaluated twice per step (no CONDUCTANCE hint: NEURON differentiates it numerically),
  which is how the BBP mechanism spends its time per step.
- NMDA magnesium block 1 / (1 + exp(-slope_mg v) mg / scale_mg) (Jahr and Stevens 1990,
  refitted parameters).
- Tsodyks-Markram release (Fuhrmann et al. 2002) with Nrrp release sites, each a two-state
  (recovered / unrecovered) Markov process: per event, each unrecovered site recovers with
  probability 1 - exp(-(t - tsyn)/Dep), then each recovered site releases with probability
  u; u facilitates with Fac (u = Use when Fac = 0). Draws from the Random123 stream `rng`
  (NMODL RANDOM; its ids are set from Python with rng.set_ids(id1, id2, id3)).

Interface kept from the BBP mechanism: the RANGE and GLOBAL names a BBP circuit sets or
reports (tau_d_AMPA, Use, Dep, Fac, u0, Nrrp, NMDA_ratio, synapseID, verboseLevel,
selected_for_report, conductance, ...) and the NetCon weight vector
(weight, weight_AMPA, weight_NMDA, Psurv, nc_type) with weight in nS. Not kept: setRNG (a
procedure setting the ids of a RANDOM stream has no CoreNEURON translation; rng.set_ids does
the same from Python), the delayed connection vectors and the verbose printing.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS NdBenchBbpExc
    GLOBAL tau_r_AMPA, tau_r_NMDA, tau_d_NMDA
    RANGE tau_d_AMPA
    RANGE Use, u, Dep, Fac, u0, mg, tsyn
    RANGE unoccupied, occupied, Nrrp
    GLOBAL slope_mg, scale_mg, e
    RANGE i_AMPA, i_NMDA, g_AMPA, g_NMDA, g, NMDA_ratio
    RANGE A_AMPA_step, B_AMPA_step, A_NMDA_step, B_NMDA_step
    RANGE synapseID, selected_for_report, verboseLevel, conductance
    GLOBAL nc_type_param, minis_single_vesicle, init_depleted
    NONSPECIFIC_CURRENT i
    RANDOM rng
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
    Use = 1.0 (1)
    Dep = 100 (ms)
    Fac = 10 (ms)
    e = 0 (mV)
    mg = 1 (mM)
    slope_mg = 0.072 (/mV)
    scale_mg = 2.55 (mM)
    gmax = 0.001 (uS)        : nS (the weight) to uS
    u0 = 0 (1)
    Nrrp = 1 (1)
    NMDA_ratio = 0.71 (1)
    synapseID = 0
    verboseLevel = 0
    selected_for_report = 0
    conductance = 0
    nc_type_param = 4
    minis_single_vesicle = 0
    init_depleted = 0
}

ASSIGNED {
    v (mV)
    i (nA)
    i_AMPA (nA)
    i_NMDA (nA)
    g_AMPA (uS)
    g_NMDA (uS)
    g (uS)
    mggate (1)
    factor_AMPA (1)
    factor_NMDA (1)
    A_AMPA_step (1)
    B_AMPA_step (1)
    A_NMDA_step (1)
    B_NMDA_step (1)
    unoccupied (1)
    occupied (1)
    tsyn (ms)
    u (1)
}

STATE {
    A_AMPA
    B_AMPA
    A_NMDA
    B_NMDA
}

INITIAL {
    A_AMPA = 0
    B_AMPA = 0
    A_NMDA = 0
    B_NMDA = 0
    factor_AMPA = normalisation(tau_r_AMPA, tau_d_AMPA)
    factor_NMDA = normalisation(tau_r_NMDA, tau_d_NMDA)
    A_AMPA_step = exp(-dt / tau_r_AMPA)
    B_AMPA_step = exp(-dt / tau_d_AMPA)
    A_NMDA_step = exp(-dt / tau_r_NMDA)
    B_NMDA_step = exp(-dt / tau_d_NMDA)
    tsyn = 0
    u = u0
    if (init_depleted) {
        occupied = 0
    } else {
        occupied = Nrrp
    }
    unoccupied = Nrrp - occupied
    random_setseq(rng, 0)
}

BREAKPOINT {
    SOLVE advance
    mggate = 1 / (1 + exp(-slope_mg * v) * (mg / scale_mg))
    g_AMPA = gmax * (B_AMPA - A_AMPA)
    g_NMDA = gmax * (B_NMDA - A_NMDA) * mggate
    g = g_AMPA + g_NMDA
    i_AMPA = g_AMPA * (v - e)
    i_NMDA = g_NMDA * (v - e)
    i = i_AMPA + i_NMDA
}

PROCEDURE advance() {
    A_AMPA = A_AMPA * A_AMPA_step
    B_AMPA = B_AMPA * B_AMPA_step
    A_NMDA = A_NMDA * A_NMDA_step
    B_NMDA = B_NMDA * B_NMDA_step
}

FUNCTION normalisation(rise (ms), decay (ms)) (1) {
    : 1 / the peak of exp(-t/decay) - exp(-t/rise), reached at t_peak
    LOCAL t_peak
    t_peak = rise * decay / (decay - rise) * log(decay / rise)
    normalisation = 1 / (exp(-t_peak / decay) - exp(-t_peak / rise))
}

NET_RECEIVE (weight, weight_AMPA, weight_NMDA, Psurv, nc_type) {
    LOCAL n, released, sites
    weight_AMPA = weight
    weight_NMDA = weight * NMDA_ratio
    if (weight > 0 && t >= 0) {
        if (Fac > 0) {
            u = u * exp(-(t - tsyn) / Fac)
            u = u + Use * (1 - u)
        } else {
            u = Use
        }
        Psurv = exp(-(t - tsyn) / Dep)
        n = 0
        while (n < unoccupied) {
            if (random_uniform(rng) > Psurv) {
                occupied = occupied + 1
            }
            n = n + 1
        }
        sites = occupied
        if (sites > 1 && minis_single_vesicle && nc_type == 1) {
            sites = 1
        }
        released = 0
        n = 0
        while (n < sites) {
            if (random_uniform(rng) < u) {
                occupied = occupied - 1
                released = released + 1
            }
            n = n + 1
        }
        unoccupied = Nrrp - occupied
        tsyn = t
        if (released > 0) {
            A_AMPA = A_AMPA + released / Nrrp * weight_AMPA * factor_AMPA
            B_AMPA = B_AMPA + released / Nrrp * weight_AMPA * factor_AMPA
            A_NMDA = A_NMDA + released / Nrrp * weight_NMDA * factor_NMDA
            B_NMDA = B_NMDA + released / Nrrp * weight_NMDA * factor_NMDA
        }
    }
}
