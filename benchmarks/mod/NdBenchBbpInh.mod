COMMENT
Benchmark stand-in with the interface of a BBP inhibitory synapse (ProbGABAAB_EMS), written
for neurodamus' synapse-cost benchmark (benchmarks/synapse_cost.py) from the
published model; the companion of NdBenchBbpExc (see there for the release model):

- GABA_A and GABA_B conductances, each the difference of two exponentially decaying states,
  normalised to peak at the weight (GABA_B scaled by GABAB_ratio), with their own reversal
  potentials; states multiplied each step by exp(-dt/tau) computed in INITIAL, the current
  evaluated twice per step (no CONDUCTANCE hint).
- Tsodyks-Markram release with Nrrp two-state release sites, Random123 stream `rng` (ids set
  with rng.set_ids(id1, id2, id3)).

Interface kept: the RANGE and GLOBAL names a BBP circuit sets or reports, and the NetCon
weight vector (weight, weight_GABAA, weight_GABAB, Psurv, nc_type), weight in nS.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS NdBenchBbpInh
    RANGE tau_r_GABAA, tau_d_GABAA
    GLOBAL tau_r_GABAB, tau_d_GABAB
    RANGE Use, u, Dep, Fac, u0, tsyn
    RANGE unoccupied, occupied, Nrrp
    RANGE i, i_GABAA, i_GABAB, g_GABAA, g_GABAB, g, e_GABAA, e_GABAB, GABAB_ratio
    RANGE A_GABAA_step, B_GABAA_step, A_GABAB_step, B_GABAB_step
    RANGE synapseID, selected_for_report, verboseLevel, conductance
    GLOBAL nc_type_param, minis_single_vesicle, init_depleted
    NONSPECIFIC_CURRENT i
    RANDOM rng
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
    Use = 1.0 (1)
    Dep = 100 (ms)
    Fac = 10 (ms)
    e_GABAA = -80 (mV)
    e_GABAB = -97 (mV)
    gmax = 0.001 (uS)        : nS (the weight) to uS
    u0 = 0 (1)
    Nrrp = 1 (1)
    GABAB_ratio = 0 (1)
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
    i_GABAA (nA)
    i_GABAB (nA)
    g_GABAA (uS)
    g_GABAB (uS)
    g (uS)
    factor_GABAA (1)
    factor_GABAB (1)
    A_GABAA_step (1)
    B_GABAA_step (1)
    A_GABAB_step (1)
    B_GABAB_step (1)
    unoccupied (1)
    occupied (1)
    tsyn (ms)
    u (1)
}

STATE {
    A_GABAA
    B_GABAA
    A_GABAB
    B_GABAB
}

INITIAL {
    A_GABAA = 0
    B_GABAA = 0
    A_GABAB = 0
    B_GABAB = 0
    factor_GABAA = normalisation(tau_r_GABAA, tau_d_GABAA)
    factor_GABAB = normalisation(tau_r_GABAB, tau_d_GABAB)
    A_GABAA_step = exp(-dt / tau_r_GABAA)
    B_GABAA_step = exp(-dt / tau_d_GABAA)
    A_GABAB_step = exp(-dt / tau_r_GABAB)
    B_GABAB_step = exp(-dt / tau_d_GABAB)
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
    g_GABAA = gmax * (B_GABAA - A_GABAA)
    g_GABAB = gmax * (B_GABAB - A_GABAB)
    g = g_GABAA + g_GABAB
    i_GABAA = g_GABAA * (v - e_GABAA)
    i_GABAB = g_GABAB * (v - e_GABAB)
    i = i_GABAA + i_GABAB
}

PROCEDURE advance() {
    A_GABAA = A_GABAA * A_GABAA_step
    B_GABAA = B_GABAA * B_GABAA_step
    A_GABAB = A_GABAB * A_GABAB_step
    B_GABAB = B_GABAB * B_GABAB_step
}

FUNCTION normalisation(rise (ms), decay (ms)) (1) {
    LOCAL t_peak
    t_peak = rise * decay / (decay - rise) * log(decay / rise)
    normalisation = 1 / (exp(-t_peak / decay) - exp(-t_peak / rise))
}

NET_RECEIVE (weight, weight_GABAA, weight_GABAB, Psurv, nc_type) {
    LOCAL n, released, sites
    weight_GABAA = weight
    weight_GABAB = weight * GABAB_ratio
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
            A_GABAA = A_GABAA + released / Nrrp * weight_GABAA * factor_GABAA
            B_GABAA = B_GABAA + released / Nrrp * weight_GABAA * factor_GABAA
            A_GABAB = A_GABAB + released / Nrrp * weight_GABAB * factor_GABAB
            B_GABAB = B_GABAB + released / Nrrp * weight_GABAB * factor_GABAB
        }
    }
}
