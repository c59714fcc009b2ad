COMMENT
Half of a gap junction: the current into this compartment through a conductance g
towards the voltage vgap of the other side, which the driver couples (possibly across
ranks) with ParallelContext source_var/target_var. Each electrical edge makes one
half on its target cell; the other direction is its own edge.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdGap
    RANGE g, i, vgap
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    g = 0 (uS)
}

ASSIGNED {
    v (mV)
    vgap (mV)
    i (nA)
}

BREAKPOINT {
    i = g * (v - vgap)
}
