COMMENT
Test stand-in with the interface of BBP's ProbAMPANMDA_EMS (written for neurodamus' tests):
the parameters the driver sets, setRNG(id1, id2, id3) for a Random123 release stream, and
the first draw and event time recorded so that a test can check the stream's key. Release: each
presynaptic event releases with probability Use; a release adds `weight` (nS) to a
dual-exponential AMPA conductance (NMDA scaled by NMDA_ratio, no Mg block).
ENDCOMMENT
NEURON {
    POINT_PROCESS ProbAMPANMDA_EMS
    RANGE tau_r_AMPA, tau_d_AMPA, NMDA_ratio, Use, Dep, Fac, Nrrp, e, g, i
    RANGE synapseID, conductance, rng_id1, rng_id2, rng_id3, first_draw, first_event, draws
    NONSPECIFIC_CURRENT i
    RANDOM release_rng
}
PARAMETER {
    tau_r_AMPA = 0.2 (ms)
    tau_d_AMPA = 1.7 (ms)
    NMDA_ratio = 0.71
    Use = 1.0
    Dep = 100 (ms)
    Fac = 10 (ms)
    Nrrp = 1
    e = 0 (mV)
    synapseID = 0
    conductance = 0
}
ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor
    rng_id1
    rng_id2
    rng_id3
    first_draw
    first_event (ms)
    draws
}
STATE { A B }
INITIAL {
    LOCAL tp
    A = 0
    B = 0
    tp = (tau_r_AMPA * tau_d_AMPA) / (tau_d_AMPA - tau_r_AMPA) * log(tau_d_AMPA / tau_r_AMPA)
    factor = 1 / (-exp(-tp / tau_r_AMPA) + exp(-tp / tau_d_AMPA))
    first_draw = -1
    first_event = -1
    draws = 0
    random_setseq(release_rng, 0)
}
BREAKPOINT {
    SOLVE states METHOD cnexp
    g = (1 + NMDA_ratio) * (B - A) * 1e-3
    i = g * (v - e)
}
DERIVATIVE states {
    A' = -A / tau_r_AMPA
    B' = -B / tau_d_AMPA
}
PROCEDURE setRNG(id1, id2, id3) {
    rng_id1 = id1
    rng_id2 = id2
    rng_id3 = id3
    random_setids(release_rng, id1, id2, id3)
}
NET_RECEIVE(weight) {
    LOCAL draw
    draw = random_uniform(release_rng)
    if (draws == 0) {
        first_draw = draw
        first_event = t
    }
    draws = draws + 1
    if (draw < Use) {
        A = A + weight * factor
        B = B + weight * factor
    }
}
