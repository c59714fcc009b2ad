"""`synapse_replay`: spikes from a SONATA spike file replayed through the synapses.

Only the parameters are checked here; the events are queued by connectivity.replay,
which knows the synapses and their presynaptic populations (the replay must exist
before stimuli, since it acts on connections).
"""

from .registry import Stimulus, register


@register("synapse_replay")
class SynapseReplay(Stimulus):
    input_types = ("spikes",)
    required = {"spike_file": str}
    optional = {"source": str}  # population of the old /spikes/gids layout

    def attach(self, cell, h, context):
        return []
