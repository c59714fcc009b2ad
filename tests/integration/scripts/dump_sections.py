"""Run a simulation through the Simulation API (under mpiexec), then save, per rank, the
values of some variables in every segment of every local cell, read from NEURON, so a test
can check what the modifications changed. A variable a section lacks is saved as null.

usage: dump_sections.py CONFIG OUTPUT VARIABLE...
writes OUTPUT/sections_rank<R>.json: {gid: {section name: {variable: [value per segment]}}}
"""

import json
import sys
from pathlib import Path

from neurodamus.config import load_settings
from neurodamus.parallel import init_parallel
from neurodamus.simulation import Simulation, SimulationOptions


def segment_values(section, name):
    values = [getattr(segment, name, None) for segment in section]
    return values if all(isinstance(v, float) for v in values) else None


def main():
    config, output, variables = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    parallel = init_parallel()
    simulation = Simulation(load_settings(config, output), parallel,
                            SimulationOptions(progress=False))
    simulation.run()
    dump = {}
    for cell in simulation.model.cells:
        dump[cell.gid] = {
            section.name().split(".", 1)[-1]: {name: segment_values(section, name)
                                               for name in variables}
            for section in cell.hoc.all}
    (output / f"sections_rank{parallel.rank}.json").write_text(json.dumps(dump))


if __name__ == "__main__":
    main()
