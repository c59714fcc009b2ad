"""neurodamus: an MPI-distributed simulation driver for NEURON, configured by SONATA files.

The package follows the data: config -> circuit -> balance -> cells -> connectivity ->
stimuli -> reports -> run -> outputs (see simulation.py for the order).
"""

__version__ = "0.1.0"

import os as _os

# One thread per MPI rank. Every rank that imports numpy otherwise starts an OpenBLAS thread
# per core, which spins beside the solver (2 % of psolve in a 2-rank profile on 2 cores). Set
# before numpy is first imported; a user's own setting wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
