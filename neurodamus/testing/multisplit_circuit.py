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


def run_circuit(h, pc, paths, mode: str, tstop: float = 60.0) -> dict:
    """Build on this rank what `mode` ("whole" or "split") gives it, run, and gather."""
    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    if not hasattr(h, "MsplitCell"):
        h(TEMPLATE)
    rank, size = int(pc.id()), int(pc.nhost())
    n = len(paths)
    gids = np.arange(n)
    weights, children = np.zeros(n), np.zeros(n)
    for gid, path in enumerate(paths):  # every rank measures every cell: the plan agrees
        cell = _instantiate(h, path)
        weights[gid] = compartments(list(cell.all))
        children[gid] = largest_soma_child(h, cell.soma[0])[1]
        for sec in list(cell.all):
            h.delete_section(sec=sec)
        del cell
    if mode == "split":
        owners, splits = plan_multisplit(gids, weights, children, size)
    else:
        owners, splits = gids % size, []
    pieces = {s.gid: s for s in splits}
    keep: dict[int, Any] = {}  # this rank's cells (whole, soma pieces, subtrees)
    sections: list = []
    extras: list = []
    for gid in range(n):
        split = pieces.get(gid)
        if owners[gid] != rank and (split is None or split.piece_rank != rank):
            continue
        cell = _instantiate(h, paths[gid])
        keep[gid] = cell
        soma = cell.soma[0]
        if owners[gid] == rank:
            for pulse in range(int(tstop // 12)):  # 2 ms pulses, each meant to make a spike
                clamp = h.IClamp(soma(0.5))
                clamp.delay, clamp.dur = 3.0 + 12.0 * pulse + 0.3 * gid, 2.0
                clamp.amp = 0.5 + weights[gid] / 800.0  # nA: larger cells need more
                extras.append(clamp)
            pc.set_gid2node(gid, rank)
            detector = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
            pc.cell(gid, detector)
        if split is not None:
            sections += apply_split(h, pc, soma, list(cell.all), split, rank)
        else:
            sections += list(cell.all)
    for gid in range(n):  # after every gid of this rank is registered
        if owners[gid] == rank:
            synapse = h.ExpSyn(keep[gid].soma[0](0.5))
            synapse.tau, synapse.e = 2.0, 0.0
            netcon = pc.gid_connect((gid + 1) % n, synapse)  # a ring over the gids
            netcon.weight[0], netcon.delay = 0.02, 1.0 + 0.1 * gid
            extras += [synapse, netcon]
    pc.multisplit()
    pc.set_maxstep(10)
    times, ids = h.Vector(), h.Vector()
    pc.spike_record(-1, times, ids)
    h.dt = 0.025
    h.finitialize(-65)
    start = time.perf_counter()
    pc.psolve(tstop)
    wall = time.perf_counter() - start
    local = {"rank": rank, "compartments": compartments(sections), "wall": wall,
             "spikes": sorted(zip(ids.to_python(), times.to_python()))}
    gathered = pc.py_allgather(local)
    pc.barrier()
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
