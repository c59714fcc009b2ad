"""Every random number of a simulation comes from here: NEURON Random123 streams, keyed so
that results do not depend on ranks, creation order or the CPU.

- keys.py: our protocol, (purpose, seed, gid, index);
- reference.py: the reference simulator's (neurodamus) protocol, one function or table
  entry per stream, named by what it is drawn for;
- bmtk.py: bmtk's protocol, one legacy NumPy generator per cell seeded by bmtk's gid, for
  its run-time synapse placement (drawn in ../dialects/bmtk_placement.py);
- neuron_random.py: NEURON's `Random` (Philox4x32-10 and the libg++ distributions) in
  NumPy, draw for draw and bit for bit, for the inputs sampled in Python.
Transcendental functions go through ../libm.py, never NumPy's SIMD ones (CPU-dependent)."""
