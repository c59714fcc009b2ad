COMMENT
Spontaneous miniature releases for synapse mechanisms that have none inside them (BBP's
ProbAMPANMDA_EMS / ProbGABAAB_EMS): a Poisson process of constant `rate` (Hz) whose events
reach the synapse through a NetCon. Its intervals are 1000 / rate x negexp(1) drawn from the
Random123 stream `exp_rng`, whose first draw is discarded, from t = 0 until `duration` --
the sequence the reference simulator's constant-rate minis generator draws for the same
stream key (written for neurodamus from that description).
ENDCOMMENT

NEURON {
    ARTIFICIAL_CELL NdPoissonMinis
    RANGE rate, duration
    RANDOM exp_rng
}

PARAMETER {
    rate = 0 (/s)
    duration = 1e9 (ms)
}

ASSIGNED {
    interval (ms)
}

INITIAL {
    random_setseq(exp_rng, 0)
    if (rate > 0) {
        interval = random_negexp(exp_rng)
        interval = 1000 / rate * random_negexp(exp_rng)
        if (t + interval < duration) {
            net_send(interval, 1)
        }
    }
}

NET_RECEIVE(w) {
    if (flag == 1) {
        interval = 1000 / rate * random_negexp(exp_rng)
        if (t + interval < duration) {
            net_send(interval, 1)
        }
        net_event(t)
    }
}
