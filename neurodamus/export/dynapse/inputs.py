"""Spike trains of the input channels, from the simulation config's `synapse_replay` inputs.

As in the driver (connectivity.replay), only spikes with delay <= t < delay + duration are
replayed, at their own times. The spikes of a virtual node
reach every exported neuron it has edges to: the input's `node_set` does not narrow that
(the chip sends an input channel's events to all its destinations anyway).
"""

import libsonata
import numpy as np

from .errors import ExportConfigError
from .network import IndexLookup, SonataConfigs


def read_replay_spikes(configs: SonataConfigs, input_population: np.ndarray,
                       input_node_id: np.ndarray):
    """(spike times in ms per input channel, notes on the inputs that were not used)."""
    simulation, notes = configs.simulation, []
    lookup = IndexLookup(input_population, input_node_id)
    channel_parts, time_parts = [np.zeros(0, np.int64)], [np.zeros(0)]
    for name in sorted(simulation.list_input_names):
        spec = simulation.input(name)
        module = spec.module.name
        if module != "synapse_replay":
            notes.append(f"input '{name}' ({module}) is not part of the check simulation")
            continue
        try:
            reader = libsonata.SpikeReader(spec.spike_file)
            populations = reader.get_population_names()
        except libsonata.SonataError as error:
            raise ExportConfigError(f"cannot read the spike file: {error}", file=spec.spike_file,
                                    key=f"inputs.{name}.spike_file") from None
        for population in populations:
            if population not in lookup:
                continue
            spikes = reader[population].get_dict()
            channel = lookup.find(population, np.asarray(spikes["node_ids"], dtype=np.int64))
            times = np.asarray(spikes["timestamps"], dtype=float)
            keep = (channel >= 0) & (times >= spec.delay) & (times < spec.delay + spec.duration)
            channel_parts.append(channel[keep])
            time_parts.append(times[keep])
    channel, time = np.concatenate(channel_parts), np.concatenate(time_parts)
    order = np.lexsort((time, channel))
    bounds = np.searchsorted(channel[order], np.arange(len(input_node_id) + 1))
    return [time[order][bounds[k]:bounds[k + 1]] for k in range(len(input_node_id))], notes
