"""A bmtk-convention point-neuron network built by hand in plain NEURON (no neurodamus), read
straight from the files with h5py: one IntFire1 per node (tau, refrac in seconds, x 1000),
one NetCon per edge with weight syn_weight x dynamics_params/sign x nsyns and the edge's
delay (bmtk's rule for edge populations with nsyns and no afferent_section_id), the
virtual sources' spikes from the spike file delivered on their edges' NetCons at spike
time + delay. Writes the spikes as {population: (times, node_ids)} into an .npz.

usage: intfire_reference.py CIRCUIT_DIR SPIKE_FILE TSTOP OUTPUT.npz
"""

import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from neuron import h


def main():
    directory, spike_file = Path(sys.argv[1]), Path(sys.argv[2])
    tstop, output = float(sys.argv[3]), Path(sys.argv[4])
    h.load_file("stdrun.hoc")
    cells, recorders = {}, []
    with h5py.File(directory / "nodes.h5", "r") as f:
        for name, group in f["nodes"].items():
            kinds = [k.decode() if isinstance(k, bytes) else k for k in group["0/model_type"][:]]
            if kinds[0] not in ("point_process", "point_neuron"):
                continue
            tau, refrac = group["0/dynamics_params/tau"][:], group["0/dynamics_params/refrac"][:]
            for node in range(len(kinds)):
                cell = h.IntFire1()
                cell.tau, cell.refrac = tau[node] * 1000.0, refrac[node] * 1000.0
                times = h.Vector()
                detector = h.NetCon(cell, None)
                detector.record(times)
                cells[(name, node)] = cell
                recorders.append((name, node, detector, times))
    with h5py.File(spike_file, "r") as f:
        replayed = {name: (g["timestamps"][:], g["node_ids"][:]) for name, g in f["spikes"].items()}
    netcons, events = [], []
    for path in sorted(directory.glob("edges_*.h5")):
        with h5py.File(path, "r") as f:
            for group in f["edges"].values():
                source_population = group["source_node_id"].attrs["node_population"]
                target_population = group["target_node_id"].attrs["node_population"]
                sources, targets = group["source_node_id"][:], group["target_node_id"][:]
                values = group["0"]
                weights = (values["syn_weight"][:] * values["dynamics_params/sign"][:]
                           * values["nsyns"][:])
                delays = values["delay"][:]
                for k in range(sources.size):
                    target = cells[(target_population, int(targets[k]))]
                    pre = cells.get((source_population, int(sources[k])))
                    netcon = h.NetCon(pre, target)
                    netcon.weight[0], netcon.delay = float(weights[k]), float(delays[k])
                    netcons.append(netcon)
                    if pre is None:  # a virtual source: its replayed spikes
                        times, ids = replayed[source_population]
                        events.append((netcon, np.sort(times[ids == sources[k]])))

    def queue():
        for netcon, times in events:
            for time in times:
                netcon.event(float(time) + netcon.delay)

    handler = h.FInitializeHandler(1, queue)  # noqa: F841 (kept alive)
    h.dt = 0.025
    h.finitialize(-65)
    h.continuerun(tstop)
    by_population: dict[str, tuple] = {}
    for name, node, _, times in recorders:
        entry = by_population.setdefault(name, ([], []))
        entry[0].extend(times)
        entry[1].extend([node] * len(times))
    arrays: dict[str, Any] = {f"{name}_times": np.array(t) for name, (t, _) in by_population.items()}
    arrays.update({f"{name}_ids": np.array(i, np.int64) for name, (_, i) in by_population.items()})
    np.savez(output, **arrays)


if __name__ == "__main__":
    main()
