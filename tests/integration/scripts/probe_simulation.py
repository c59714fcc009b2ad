"""Run a simulation through the Simulation API with probes the tests need (under mpiexec):
soma voltages of every local cell, the delivery times of every event on every synapse
(the synapse's last-event time, recorded each step), and the synapses' parameters after
set-up. Saves one .npz/.json per rank in OUTPUT.

usage: probe_simulation.py CONFIG OUTPUT
"""

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from neurodamus.config import load_settings
from neurodamus.parallel import init_parallel
from neurodamus.simulation import Simulation, SimulationOptions


class Probes:
    """A run hook recording soma voltage and synapse event times every step."""

    def __init__(self, cells, h):
        self.cells, self.h = cells, h
        self.time = h.Vector().record(h._ref_t)
        self.voltages = {c.gid: h.Vector().record(c.soma(0.5)._ref_v) for c in cells}
        self.last_event = {(c.gid, i): h.Vector().record(s.point_process._ref_t_last)
                           for c in cells for i, s in enumerate(c.synapses)}
        self.weights_at = {}

    def window(self, h):
        return 10.0  # sample weights every 10 ms

    def after_window(self, h):
        self.weights_at[round(h.t, 6)] = {
            f"{c.gid}:{i}": s.netcon.weight[0] for c in self.cells for i, s in enumerate(c.synapses)}


class ProbedSimulation(Simulation):
    def _prepare_reports(self, circuit, cells, area):
        reports = super()._prepare_reports(circuit, cells, area)
        self.probes = Probes(cells, self.h)
        reports.hooks.append(self.probes)
        return reports


def synapse_table(cells):
    rows = []
    for cell in cells:
        for index, synapse in enumerate(cell.synapses):
            pp = synapse.point_process
            rows.append({"gid": cell.gid, "index": index, "edge_population": synapse.edge_population,
                         "edge_id": synapse.edge_id, "source_gid": synapse.source_gid,
                         "weight": synapse.netcon.weight[0], "base_weight": synapse.weight,
                         "delay": synapse.netcon.delay, "Use": pp.Use,
                         "minis": pp.minis_rate, "inhibitory": synapse.inhibitory})
    return rows


def main():
    config, output = sys.argv[1], Path(sys.argv[2])
    parallel = init_parallel()
    settings = load_settings(config, output)
    simulation = ProbedSimulation(settings, parallel, SimulationOptions(progress=False))
    simulation.run()
    probes, rank = simulation.probes, parallel.rank
    event_times = {}
    for (gid, index), vector in probes.last_event.items():
        values = np.array(vector)
        event_times[f"{gid}:{index}"] = np.unique(values[values > -1e8]).tolist()
    arrays: dict[str, Any] = {str(gid): np.array(v) for gid, v in probes.voltages.items()}
    np.savez(output / f"voltages_rank{rank}.npz", time=np.array(probes.time), **arrays)
    (output / f"probes_rank{rank}.json").write_text(json.dumps({
        "synapses": synapse_table(simulation.model.cells), "event_times": event_times,
        "weights_at": {str(k): v for k, v in probes.weights_at.items()},
        "offsets": {name: p.offset for name, p in simulation.model.circuit.populations.items()},
        "connections": {"synapses": simulation.model.connections.synapses,
                        "gap_junctions": simulation.model.connections.gap_junctions,
                        "minis": simulation.model.connections.minis,
                        "replayed_events": simulation.model.connections.replayed_events}}))


if __name__ == "__main__":
    main()
