COMMENT
TTX for the `ttx` modification (conditions.modifications): sets the concentrations of the
`ttx` ion in the sections it is inserted in.

Sodium channels written to the Blue Brain convention (NaTg, NaTa_t, NaTs2_t, Nap_Et2, ...)
declare `USEION ttx READ ttxo, ttxi VALENCE 1` and close (m = 0, h = 1) while
`ttxi == 0.015625 && ttxo > 1e-12`: the inside value marks that a switch like this one is
present (NEURON's default concentration, 1 mM, never equals it), the outside value is the
TTX level. ttxo_level = 1 blocks them; a tiny positive level (1e-14, the default) leaves
them open while keeping the switch in place.

Channels that do not read the ttx ion (NEURON's hh among them) are not affected.
ENDCOMMENT

NEURON {
    SUFFIX NdTTX
    USEION ttx WRITE ttxo, ttxi VALENCE 1
    RANGE ttxo_level
}

UNITS {
    (mM) = (milli/liter)
}

PARAMETER {
    ttxo_level = 1e-14 (mM)
}

ASSIGNED {
    ttxo (mM)
    ttxi (mM)
}

INITIAL {
    ttxo = ttxo_level
    ttxi = 0.015625
}
