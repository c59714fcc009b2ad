"""Run the MultiSplit circuit (neurodamus/testing/multisplit_circuit.py) under mpiexec, whole-cell
or split; rank 0 writes the spikes and each rank's compartments as JSON.

usage: multisplit_spikes.py whole|split MORPHOLOGY_DIR OUT.json [LARGE_DEPTH]
"""

from neurodamus.testing.multisplit_circuit import main

if __name__ == "__main__":
    main()
