"""Dynap-SE export: a SONATA point-neuron network as Dynap-SE chip parameters.

The flow, one module per step:
network (read SONATA) -> cores (group neurons into cores) -> routing (CAM, tags,
destinations) -> quantize (weights) -> chip_config (everything as arrays) -> writer
(dynapse.json / dynapse.npz). chip_model and neuron_reference run the check simulation.
Serial, NumPy only: no MPI, no Rockpool or samna.
"""
