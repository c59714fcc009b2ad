COMMENT
Membrane conductance source of neurodamus' stimuli: a conductance 1/rs (rs in MOhm, so
1/rs in uS) towards the reversal potential `e` (mV) until `dur` (ms), as a membrane current
(NONSPECIFIC_CURRENT) so that it counts in i_membrane. The electrode counterpart is an
SEClamp of series resistance rs.

`rs` is set or played by the caller, as a resistance (the reference simulator plays its
conductance stimuli that way); i = (v - e) / rs is the outward membrane current, 0 from
t = dur on.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdStimConductanceSource
    RANGE rs, e, dur, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
}

PARAMETER {
    rs = 1e9 (megohm)
    e = 0 (mV)
    dur = 1e9 (ms)
}

ASSIGNED {
    v (mV)
    i (nA)
}

BREAKPOINT {
    if (t < dur) {
        i = (v - e) / rs
    } else {
        i = 0
    }
}
