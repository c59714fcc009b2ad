"""The floor for `ci/bench-emodel`: the detailed e-model circuit built and solved by a plain
NEURON script, no driver.

    mpiexec -n R python -m benchmarks.plain_emodel SIMULATION_CONFIG --mechanisms LIB
        [--json OUT]

Reads the nodes and edges of a circuit written by testing/bbp_style/detailed.py with h5py,
instantiates the template on each node's .asc morphology (gids round-robin; NEURON's own
Import3d, each cell reading its file, as a plain script does), a spike detector at
soma[0](1), one ProbAMPANMDA_EMS / ProbGABAAB_EMS per edge at its section id (the original
axon counted, nSecAxonalOrig) and position with the edge's parameters and a Random123 stream
per synapse, a NetCon per edge, the config's `linear` current clamps at the soma, then
psolve to tstop. Rank 0 prints one JSON line: per-phase times (the slowest rank's) and the
peak resident memory of the largest rank.
"""

import argparse
import json
import resource
import time
from pathlib import Path

import h5py
import numpy as np

from benchmarks.plain_neuron import attach_linear_clamps, strings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="plain_emodel", description=__doc__.split("\n\n")[0])
    parser.add_argument("simulation_config", type=Path)
    parser.add_argument("--mechanisms", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from mpi4py import MPI  # noqa: F401  (MPI first; NEURON then finds its library)

    from neurodamus.parallel import point_neuron_at_mpi

    point_neuron_at_mpi()
    from neuron import h

    h.nrnmpi_init()
    h.nrn_load_dll(str(args.mechanisms))
    h.load_file("stdrun.hoc")
    pc = h.ParallelContext()
    rank, nhost = int(pc.id()), int(pc.nhost())
    simulation = json.loads(args.simulation_config.read_text())
    base = args.simulation_config.resolve().parent
    circuit_dir = (base / simulation["network"]).parent
    run = simulation["run"]
    h.dt = float(run["dt"])
    h.celsius = float(simulation["conditions"]["celsius"])
    tstop = float(run["tstop"])
    with h5py.File(circuit_dir / "nodes.h5") as f:
        group = f["nodes/cortex/0"]
        templates = [t.split(":", 1)[1] for t in strings(group["model_template"])]
        morphologies = strings(group["morphology"])
    for name in set(templates):
        h.load_file(str(circuit_dir / "emodels" / f"{name}.hoc"))
    with h5py.File(circuit_dir / "edges.h5") as f:
        group = f["edges/cortex__cortex__chemical"]
        sources = group["source_node_id"][()]
        targets = group["target_node_id"][()]
        edges = {name: group["0"][name][()] for name in group["0"]}
    read_s = time.perf_counter() - started

    pc.barrier()
    started = time.perf_counter()
    cells = {}
    detectors = []
    for gid in range(rank, len(templates), nhost):
        cell = getattr(h, templates[gid])(gid, str(circuit_dir / "morphologies"),
                                          morphologies[gid] + ".asc", 0)
        cells[gid] = cell
        pc.set_gid2node(gid, rank)
        detector = h.NetCon(cell.soma[0](1)._ref_v, None, sec=cell.soma[0])
        detector.threshold = float(run["spike_threshold"])
        pc.cell(gid, detector)
        detectors.append(detector)
    cells_s = time.perf_counter() - started

    pc.barrier()
    started = time.perf_counter()
    synapses, netcons = [], []
    mine = np.flatnonzero(targets % nhost == rank)
    index_of: dict[int, int] = {}
    sections: dict[int, list] = {}
    for edge in mine:
        gid = int(targets[edge])
        index = index_of.get(gid, 0)
        index_of[gid] = index + 1
        if gid not in sections:
            cell = cells[gid]
            axon = [None] * int(cell.nSecAxonalOrig)
            axon[:2] = [cell.axon[0], cell.axon[1]]
            sections[gid] = [cell.soma[0], *axon, *cell.basal, *cell.apical]
        location = sections[gid][int(edges["afferent_section_id"][edge])](
            float(edges["afferent_section_pos"][edge]))
        if edges["syn_type_id"][edge] < 100:
            synapse = h.ProbGABAAB_EMS(location)
            synapse.tau_d_GABAA = float(edges["decay_time"][edge])
        else:
            synapse = h.ProbAMPANMDA_EMS(location)
            synapse.tau_d_AMPA = float(edges["decay_time"][edge])
            synapse.NMDA_ratio = float(edges["conductance_scale_factor"][edge])
        synapse.Use = abs(float(edges["u_syn"][edge]))
        synapse.Dep = abs(float(edges["depression_time"][edge]))
        synapse.Fac = abs(float(edges["facilitation_time"][edge]))
        synapse.Nrrp = float(edges["n_rrp_vesicles"][edge])
        synapse.setRNG(gid + 251, index + 100, 300)
        netcon = pc.gid_connect(int(sources[edge]), synapse)
        netcon.delay = float(edges["delay"][edge])
        netcon.weight[0] = float(edges["conductance"][edge])
        synapses.append(synapse)
        netcons.append(netcon)
    synapses_s = time.perf_counter() - started

    clamps = attach_linear_clamps(h, simulation, cells)  # noqa: F841  (kept alive to the run)

    spike_times, spike_gids = h.Vector(), h.Vector()
    pc.spike_record(-1, spike_times, spike_gids)
    pc.set_maxstep(10)
    h.finitialize(float(simulation["conditions"]["v_init"]))
    pc.barrier()
    started = time.perf_counter()
    pc.psolve(tstop)
    solve_s = time.perf_counter() - started
    pc.barrier()
    memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def slowest(value: float) -> float:
        return float(pc.allreduce(value, 2))

    figures = {"ranks": nhost, "cells": int(pc.allreduce(len(cells), 1)),
               "synapses": int(pc.allreduce(len(synapses), 1)),
               "spikes": int(pc.allreduce(spike_times.size(), 1)),
               "read_s": slowest(read_s), "cells_s": slowest(cells_s),
               "synapses_s": slowest(synapses_s), "solve_s": slowest(solve_s),
               "peak_memory_mb": slowest(memory)}
    if rank == 0:
        print(json.dumps(figures))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
    pc.barrier()
    pc.done()
    h.quit()


if __name__ == "__main__":
    main()
