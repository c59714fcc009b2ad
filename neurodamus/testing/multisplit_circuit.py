"""A circuit for MultiSplit: a few very large cells (hundreds of sections, from the detailed
morphology generator) among small ones, run on every rank of an MPI job either whole-cell
(round-robin) or with the large cells split across ranks (balance/multisplit.py).

The cells are Import3d instances of the generated morphologies with Hodgkin-Huxley soma and
axon and passive dendrites, each driven by a step current at its soma; the small cells also
receive an ExpSyn from a large cell's spikes (through the gids, so spikes cross ranks) and the
large cells one from a small cell. `run_circuit` gives each rank's compartments, the wall time
and (on rank 0) every spike, so the two modes can be compared spike by spike.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..balance.multisplit import apply_split, compartments, largest_soma_child, plan_multisplit
from .detailed_morphologies import write_detailed_asc

TEMPLATE = """
begintemplate MsplitCell
public soma, dend, apic, axon, all, somatic, basal, apical, axonal
create soma[1], dend[1], apic[1], axon[1]
objref all, somatic, basal, apical, axonal
proc init() {
    all = new SectionList() somatic = new SectionList() basal = new SectionList()
    apical = new SectionList() axonal = new SectionList()
}
endtemplate MsplitCell
"""


def write_circuit(directory: Path, n_large: int = 2, n_small: int = 6, large_depth: int = 6,
                  seed: int = 7) -> list[Path]:
    """The morphology of each cell (gid order): `n_large` large ones first."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for gid in range(n_large + n_small):
        path = directory / f"cell{gid}.asc"
        write_detailed_asc(path, rng, depth=large_depth if gid < n_large else 2)
        paths.append(path)
    return paths


def _instantiate(h, path: Path):
    cell = h.MsplitCell()
    reader = h.Import3d_Neurolucida3()
    reader.quiet = 1
    reader.input(str(path))
    h.Import3d_GUI(reader, 0).instantiate(cell)
    for sec in cell.all:
        sec.nseg = 1 + 2 * int(sec.L / 20.0)
        sec.Ra, sec.cm = 100.0, 1.0
        if ".soma" in sec.name() or ".axon" in sec.name():
            sec.insert("hh")
        else:
            sec.insert("pas")
            for seg in sec:
                seg.pas.g, seg.pas.e = 1e-4, -65.0
    return cell


def _measure(h, paths) -> tuple[np.ndarray, np.ndarray]:
    """(compartments, compartments of the largest soma-child subtree) of every cell: every
    rank measures every cell, so every rank computes the same plan."""
    weights, children = np.zeros(len(paths)), np.zeros(len(paths))
    for gid, path in enumerate(paths):
        cell = _instantiate(h, path)
        weights[gid] = compartments(list(cell.all))
        children[gid] = largest_soma_child(h, cell.soma[0])[1]
        for sec in list(cell.all):
            h.delete_section(sec=sec)
    return weights, children


def _drive(h, pc, cell, gid: int, weight: float, tstop: float, rank: int) -> list:
    """On the rank keeping the soma: the current pulses and the gid's spike detector."""
    soma = cell.soma[0]
    clamps = []
    for pulse in range(int(tstop // 12)):  # 2 ms pulses, each meant to make a spike
        clamp = h.IClamp(soma(0.5))
        clamp.delay, clamp.dur = 3.0 + 12.0 * pulse + 0.3 * gid, 2.0
        clamp.amp = 0.5 + weight / 800.0  # nA: larger cells need more
        clamps.append(clamp)
    pc.set_gid2node(gid, rank)
    pc.cell(gid, h.NetCon(soma(0.5)._ref_v, None, sec=soma))
    return clamps


def _build(h, pc, paths, owners, splits, weights, tstop: float) -> tuple[list, list]:
    """This rank's cells, whole or cut: (sections kept, objects to keep alive)."""
    rank, n = int(pc.id()), len(paths)
    pieces = {s.gid: s for s in splits}
    cells: dict[int, Any] = {}  # this rank's cells (whole, soma pieces, subtrees)
    sections: list = []
    for gid in range(n):
        split = pieces.get(gid)
        if owners[gid] != rank and (split is None or split.piece_rank != rank):
            continue
        cell = _instantiate(h, paths[gid])
        extras = _drive(h, pc, cell, gid, weights[gid], tstop, rank) if owners[gid] == rank else []
        cells[gid] = (cell, extras)
        if split is not None:
            sections += apply_split(h, pc, cell.soma[0], list(cell.all), split, rank)
        else:
            sections += list(cell.all)
    synapses = []
    for gid in range(n):  # after every gid of this rank is registered
        if owners[gid] == rank:
            synapse = h.ExpSyn(cells[gid][0].soma[0](0.5))
            synapse.tau, synapse.e = 2.0, 0.0
            netcon = pc.gid_connect((gid + 1) % n, synapse)  # a ring over the gids
            netcon.weight[0], netcon.delay = 0.02, 1.0 + 0.1 * gid
            synapses += [synapse, netcon]
    return sections, [cells, synapses]


def run_circuit(h, pc, paths, mode: str, tstop: float = 60.0) -> dict:
    """Build on this rank what `mode` ("whole" or "split") gives it, run, and gather."""
    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    if not hasattr(h, "MsplitCell"):
        h(TEMPLATE)
    size = int(pc.nhost())
    gids = np.arange(len(paths))
    weights, children = _measure(h, paths)
    if mode == "split":
        owners, splits = plan_multisplit(gids, weights, children, size)
    else:
        owners, splits = gids % size, []
    sections, alive = _build(h, pc, paths, owners, splits, weights, tstop)
    pc.multisplit()  # every piece declared: join them
    pc.set_maxstep(10)
    times, ids = h.Vector(), h.Vector()
    pc.spike_record(-1, times, ids)
    h.dt = 0.025
    h.finitialize(-65)
    start = time.perf_counter()
    pc.psolve(tstop)
    wall = time.perf_counter() - start
    local = {"rank": int(pc.id()), "compartments": compartments(sections), "wall": wall,
             "spikes": sorted(zip(ids.to_python(), times.to_python()))}
    gathered = pc.py_allgather(local)
    pc.barrier()
    del alive
    return {"mode": mode, "split_cells": [s.gid for s in splits],
            "ranks": [{k: v for k, v in g.items() if k != "spikes"} for g in gathered],
            "spikes": sorted(s for g in gathered for s in g["spikes"])}


def main(argv=None) -> None:
    """`python -m neurodamus.testing.multisplit_circuit MODE MORPH_DIR OUT.json [LARGE_DEPTH
    [TSTOP]]` under mpiexec (the circuit is written into MORPH_DIR when it has none): writes
    the gathered result on rank 0."""
    from ..parallel import init_parallel

    pc = init_parallel().pc  # NEURON on mpi4py's MPI, as the driver starts it
    from neuron import h

    args = list(sys.argv[1:] if argv is None else argv)
    mode, directory, out = args[0], Path(args[1]), Path(args[2])
    depth = int(args[3]) if len(args) > 3 else 6
    tstop = float(args[4]) if len(args) > 4 else 60.0
    paths = sorted(directory.glob("cell*.asc"), key=lambda p: int(p.stem[4:]))
    if not paths and int(pc.id()) == 0:
        paths = write_circuit(directory, large_depth=depth)
    pc.barrier()
    paths = sorted(directory.glob("cell*.asc"), key=lambda p: int(p.stem[4:]))
    result = run_circuit(h, pc, paths, mode, tstop)
    if int(pc.id()) == 0:
        out.write_text(json.dumps(result))
    pc.barrier()
    pc.done()
    h.quit()


if __name__ == "__main__":
    main()
