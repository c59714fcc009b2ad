"""neurodamus: an MPI-distributed simulation driver for NEURON, configured by SONATA files.

The package follows the data: config -> circuit -> balance -> cells -> connectivity ->
stimuli -> reports -> run -> outputs (see simulation.py for the order).
"""

__version__ = "0.1.0"
