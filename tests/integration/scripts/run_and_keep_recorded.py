"""Run a simulation through the Simulation API and save, per rank, the spikes NEURON recorded
(before any gathering or file writing), so a test can compare them with the output file."""

import sys
from pathlib import Path

import numpy as np

from neurodamus.config import load_settings
from neurodamus.parallel import init_parallel
from neurodamus.simulation import Simulation, SimulationOptions

config, output = sys.argv[1], Path(sys.argv[2])
parallel = init_parallel()
settings = load_settings(config, output)
simulation = Simulation(settings, parallel, SimulationOptions(progress=False))
simulation.run()
times, gids = simulation.model.spike_recorder.local_spikes()
np.savez(output / f"recorded_rank{parallel.rank}.npz", times=times, gids=gids)
