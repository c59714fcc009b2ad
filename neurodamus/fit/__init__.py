"""`neurodamus fit FIT_SPEC`: fit a circuit's parameters to recordings.

The data flows one way: spec.py reads and checks the fit spec (before any NEURON object
exists); parameters.py turns a candidate's values into a simulation config of its own,
through the config's own mechanisms; evaluate.py simulates candidates on MPI rank groups
with the driver's Simulation, in memory, one process per rank for the whole fit;
targets.py reads the recordings and scores a candidate's outputs; optimisers.py drives
`cma` or `scipy.optimize`; outputs.py writes the results and the checkpoint; command.py is
the command line. docs/fit.md describes the spec.
"""
