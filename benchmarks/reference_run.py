"""Run by the reference simulator's Python (neurodamus 4.2.9 from PyPI), not ours:

    mpiexec -n R REFERENCE_PYTHON benchmarks/reference_run.py SIMULATION_CONFIG OUTPUT_DIR

Runs the simulation as its command line does, then writes what `versus_reference` compares:
each rank's spikes (`spikes_rank<r>.npz`: node ids, times; its own spike file needs the
reporting library, which a build with -DDISABLE_REPORTINGLIB leaves out) and, from rank 0,
`reference_figures.json` (its timers per rank, peak resident memory per rank in MB).
"""

import importlib
import json
import resource
import sys

import numpy as np


def main():
    # the reference's modules (this file runs under its Python, where `neurodamus` is its)
    Neurodamus = importlib.import_module("neurodamus").Neurodamus
    Nd = importlib.import_module("neurodamus.core").NeuronWrapper
    TimerManager = importlib.import_module("neurodamus.utils.timeit").TimerManager
    config, out = sys.argv[1], sys.argv[2]
    simulation = Neurodamus(config, output_path=out)
    simulation.run(cleanup=False)
    rank = int(Nd.pc.id())
    times, nodes = [], []
    for (_, offset), (t, g) in zip(simulation._spike_populations, simulation._spike_vecs):
        times += list(t)
        nodes += [int(x) - offset for x in g]
    np.savez(f"{out}/spikes_rank{rank}.npz", t=np.array(times), node=np.array(nodes))
    timers = {name: t._total_time for name, t in TimerManager._timers.items()}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    every_timer, every_rss = Nd.pc.py_gather(timers, 0), Nd.pc.py_gather(rss, 0)
    if rank == 0:
        with open(f"{out}/reference_figures.json", "w") as f:
            json.dump({"timers": every_timer, "maxrss_mb": every_rss}, f)
    Nd.pc.barrier()


if __name__ == "__main__":
    main()
