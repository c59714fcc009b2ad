"""Other back ends than NEURON."""
