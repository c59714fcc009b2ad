COMMENT
Membrane current source of neurodamus' stimuli: injects `amp` nA into the segment as a
membrane current (NONSPECIFIC_CURRENT), not as an electrode current. It therefore counts in
i_membrane (and in extracellular signals computed from it), as a current carried by the
membrane would -- the way to represent missing synaptic input. IClamp is the electrode
counterpart.

`amp` (nA, positive depolarises) is set or played by the caller; i = -amp is the outward
membrane current.
ENDCOMMENT

NEURON {
    POINT_PROCESS NdStimCurrentSource
    RANGE amp, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
}

PARAMETER {
    amp = 0 (nA)
}

ASSIGNED {
    i (nA)
}

INITIAL {
    i = -amp
}

BREAKPOINT {
    i = -amp
}
