"""Run a simulation through the Simulation API (under mpiexec) and dump, per rank, every
synapse of the local cells as the driver made it: target gid, edge population and id,
source gid, section id and name, position, path distance of its segment's centre from
soma(0), NetCon weight and delay, and tau1/tau2/e of Exp2Syn synapses. With `--record`,
also the Exp2Syn states A and B of every synapse at every step.

usage: probe_templated_synapses.py CONFIG OUTPUT [--record]
"""

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from neurodamus.config import load_settings
from neurodamus.parallel import init_parallel
from neurodamus.simulation import Simulation, SimulationOptions


class Recorder:
    """A run hook: Exp2Syn states at every step."""

    def __init__(self, cells, h):
        self.time = h.Vector().record(h._ref_t)
        self.states = {(c.gid, i): (h.Vector().record(s.point_process._ref_A),
                                    h.Vector().record(s.point_process._ref_B))
                       for c in cells for i, s in enumerate(c.synapses)}


class ProbedSimulation(Simulation):
    record = False

    def _prepare_reports(self, circuit, cells, area):
        reports = super()._prepare_reports(circuit, cells, area)
        if self.record:
            self.recorder = Recorder(cells, self.h)
        return reports


def synapse_rows(cells, h):
    rows = []
    for cell in cells:
        for index, synapse in enumerate(cell.synapses):
            pp = synapse.point_process
            row = {"gid": cell.gid, "index": index, "edge_population": synapse.edge_population,
                   "edge_id": synapse.edge_id, "source_gid": synapse.source_gid,
                   "weight": synapse.netcon.weight[0], "delay": synapse.netcon.delay,
                   "inhibitory": synapse.inhibitory, "section_id": synapse.section_id,
                   "x": synapse.location}
            row["mechanism"] = pp.hname().split("[")[0]
            if row["mechanism"] == "ExpSyn":
                row.update(tau=pp.tau, e=pp.e)
            if pp.hname().startswith("Exp2Syn"):
                segment = pp.get_segment()
                row.update(tau1=pp.tau1, tau2=pp.tau2, e=pp.e,
                           section=segment.sec.name().rsplit(".", 1)[-1],
                           segment_x=segment.x, nseg=segment.sec.nseg, length=segment.sec.L,
                           distance=h.distance(cell.soma(0), segment))
            rows.append(row)
    return rows


def segment_tables(cells, h):
    """Per gid: (section name, x, length / nseg, path distance from soma(0)) of every
    segment, sections in the cell's `all` order."""
    out = {}
    for cell in cells:
        if not hasattr(cell, "sections"):
            continue
        out[str(cell.gid)] = [(section.name().rsplit(".", 1)[-1], segment.x,
                               section.L / section.nseg, h.distance(cell.soma(0), segment))
                              for section in cell.sections for segment in section]
    return out


def main():
    config, output = sys.argv[1], Path(sys.argv[2])
    parallel = init_parallel()
    settings = load_settings(config, output)
    simulation = ProbedSimulation(settings, parallel, SimulationOptions(progress=False))
    simulation.record = "--record" in sys.argv[3:]
    simulation.run()
    h, rank = simulation.h, parallel.rank
    (output / f"synapses_rank{rank}.json").write_text(json.dumps({
        "synapses": synapse_rows(simulation.model.cells, h),
        "offsets": {name: p.offset for name, p in simulation.model.circuit.populations.items()},
        "count": simulation.model.connections.synapses,
        "segments": segment_tables(simulation.model.cells, h)}))
    if simulation.record:
        recorder = simulation.recorder
        states: dict[str, Any] = {f"{gid}_{i}_{name}": np.array(vector)
                                  for (gid, i), vectors in recorder.states.items()
                                  for name, vector in zip("AB", vectors)}
        np.savez(output / f"states_rank{rank}.npz", time=np.array(recorder.time), **states)


if __name__ == "__main__":
    main()
