"""Run a BBP-style circuit through the Simulation API (under mpiexec) with the test synapse
mechanisms and save, per rank, what each synapse became: its section, position, parameters,
the Random123 ids its release stream got and its first draw.

usage: dump_bbp_synapses.py CONFIG OUTPUT MECHANISMS_DIR
"""

import json
import sys
from pathlib import Path

from neurodamus.config import load_settings
from neurodamus.parallel import init_parallel
from neurodamus.simulation import Simulation, SimulationOptions

PARAMETERS = ("Use", "Dep", "Fac", "Nrrp", "synapseID", "conductance", "rng_id1", "rng_id2",
              "rng_id3", "first_draw", "first_event", "draws")


def main():
    config, output, mechanisms = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    parallel = init_parallel()
    settings = load_settings(config, output, (mechanisms,))
    simulation = Simulation(settings, parallel,
                            SimulationOptions(progress=False, mechanism_dirs=(mechanisms,)))
    simulation.run()
    rows = []
    for cell in simulation.model.cells:
        for synapse in cell.synapses:
            pp = synapse.point_process
            row = {name: getattr(pp, name) for name in PARAMETERS}
            kind = "GABAA" if synapse.inhibitory else "AMPA"
            row.update(node_id=cell.node_id, gid=cell.gid, edge_id=synapse.edge_id,
                       mechanism=pp.hname().split("[")[0], section=pp.get_segment().sec.name(),
                       nseg=pp.get_segment().sec.nseg,
                       x=pp.get_loc(), tau_d=getattr(pp, f"tau_d_{kind}"),
                       ratio=pp.GABAB_ratio if synapse.inhibitory else pp.NMDA_ratio,
                       weight=synapse.netcon.weight[0], delay=synapse.netcon.delay)
            simulation.h.pop_section()
            rows.append(row)
    (output / f"synapses_rank{parallel.rank}.json").write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
