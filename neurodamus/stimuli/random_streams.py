"""Random streams of the noise modules: Philox4x64, the counter-based generator of the
Random123 family (Salmon et al., SC'11), as NumPy implements it.

A stream is keyed by (seed, gid) and starts at the counter (0, 0, input_index, site): the
draws of a cell depend on nothing but the run's stimulus_seed, its gid, the input's position
and the site's position on the cell -- never on the rank or on the order cells are built, so
results do not depend on the number of ranks. Each stream has 2**128 draws before it could
meet another. An input's own `random_seed` replaces the stimulus seed and the gid by a
shared key, so that all its cells draw the same numbers (correlated inputs).

The signals are drawn in Python and played into NEURON (see waveforms.py), which also
works under CoreNEURON; NEURON's per-mechanism RANDOM streams were the alternative.
"""

import numpy as np

SHARED_GID = 2**64 - 1  # the key's gid word when an input's random_seed correlates its cells


def stimulus_stream(stimulus_seed: int, gid: int, input_index: int, site: int = 0,
                    random_seed: int | None = None) -> np.random.Generator:
    if random_seed is None:
        key = [stimulus_seed, gid]
    else:
        key = [random_seed, SHARED_GID]
    counter = np.array([0, 0, input_index, site], dtype=np.uint64)
    key = np.array(key, dtype=np.uint64)
    return np.random.Generator(np.random.Philox(key=key, counter=counter))
