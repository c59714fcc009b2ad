COMMENT
Membrane conductance source of neurodamus' stimuli: a conductance `g` (uS) towards the
reversal potential `e` (mV), as a membrane current (NONSPECIFIC_CURRENT) so that it counts
in i_membrane. The electrode counterpart is an SEClamp whose series resistance is 1/g.

`g` is set or played by the caller; i = g * (v - e) is the outward membrane current.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdStimConductanceSource
    RANGE g, e, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    g = 0 (uS)
    e = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
}

BREAKPOINT {
    i = g * (v - e)
}
