"""Spontaneous miniature release: a Poisson source per synapse driving the same synapse
(so release goes through its Tsodyks-Markram pool), at `spont_minis` Hz from the
connection overrides, else at the target node's exc-/inh-mini_frequency.

Each source is a NetStim whose Random123 stream is keyed by (minis_seed, gid, synapse
index), so minis do not depend on the rank count.
"""

import math

from ..random_streams import Purpose, stream_ids

MINI_DELAY = 0.1  # ms, local connection from the Poisson source to its synapse


def minis_rate(cell, synapse) -> float:
    explicit = getattr(synapse, "minis_rate", None)
    if explicit is not None:
        return explicit
    rate = cell.inh_mini_frequency if synapse.inhibitory else cell.exc_mini_frequency
    return rate if math.isfinite(rate) else 0.0


def add_minis(cells, h, minis_seed: int) -> int:
    """Create the Poisson sources; returns how many synapses have minis."""
    count = 0
    for cell in cells:
        for index, synapse in enumerate(cell.synapses):
            rate = minis_rate(cell, synapse)
            if rate <= 0:
                continue
            source = h.NetStim()
            source.interval = 1000.0 / rate
            source.noise = 1
            source.start = 0
            source.number = 1e9
            source.noiseFromRandom123(*stream_ids(Purpose.MINIS, minis_seed, cell.gid, index))
            netcon = h.NetCon(source, synapse.point_process)
            netcon.delay = MINI_DELAY
            netcon.weight[0] = synapse.netcon.weight[0]
            synapse.extra_netcons.append(netcon)
            cell.keep_alive.append(source)
            count += 1
    return count
