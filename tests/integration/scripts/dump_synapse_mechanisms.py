"""Run a simulation through the Simulation API (under mpiexec) and save, per rank, what the
synapses of each edge population became: the mechanism of every synapse's point process
(the artificial cell itself for NetCons onto point neurons), counted, and the populations
of the local cells.

usage: dump_synapse_mechanisms.py CONFIG OUTPUT
"""

import json
import sys
from collections import Counter
from pathlib import Path

from neurodamus.config import load_settings
from neurodamus.parallel import init_parallel
from neurodamus.simulation import Simulation, SimulationOptions


def main():
    config, output = sys.argv[1], Path(sys.argv[2])
    parallel = init_parallel()
    simulation = Simulation(load_settings(config, output), parallel,
                            SimulationOptions(progress=False))
    simulation.run()
    mechanisms: dict[str, Counter] = {}
    for cell in simulation.model.cells:
        for synapse in cell.synapses:
            name = synapse.point_process.hname().split("[")[0]
            mechanisms.setdefault(synapse.edge_population, Counter())[name] += 1
    cells = Counter(cell.population for cell in simulation.model.cells)
    (output / f"mechanisms_rank{parallel.rank}.json").write_text(json.dumps(
        {"mechanisms": {k: dict(v) for k, v in mechanisms.items()}, "cells": dict(cells)}))


if __name__ == "__main__":
    main()
