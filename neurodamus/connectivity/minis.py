"""Spontaneous miniature release at `spont_minis` Hz from the connection overrides, else at the
target node's exc-/inh-mini_frequency.

Minis are generated inside each synapse mechanism (Poisson self-events, see the mod
files), so they go through its Tsodyks-Markram pool and are saved with its state. Their
Random123 stream is keyed by (minis_seed, gid, synapse index), so minis do not depend
on the rank count.
"""

import logging
import math

from ..random.keys import Purpose, purpose_id

log = logging.getLogger(__name__)


def minis_rate(cell, synapse) -> float:
    explicit = getattr(synapse, "minis_rate", None)
    if explicit is not None:
        return explicit
    rate = cell.inh_mini_frequency if synapse.inhibitory else cell.exc_mini_frequency
    return rate if math.isfinite(rate) else 0.0


def add_minis(cells, minis_seed: int, h=None, tstop: float = 1e9) -> int:
    """Switch minis on in the synapses that have a rate; returns how many. Models without
    minis inside their mechanism get a Poisson source of their own (the reference
    simulator's protocol); a model with neither is skipped, with one warning."""
    count, stream = 0, purpose_id(Purpose.MINIS, minis_seed)
    skipped: dict[str, int] = {}
    for cell in cells:
        for index, synapse in enumerate(cell.synapses):
            rate = minis_rate(cell, synapse)
            if rate <= 0:
                continue
            if synapse.model is not None and not synapse.model.has_minis:
                synapse.minis = synapse.model.attach_minis(h, synapse, rate, minis_seed, tstop)
                if synapse.minis is None:
                    skipped[synapse.model.name] = skipped.get(synapse.model.name, 0) + 1
                else:
                    count += 1
                continue
            mechanism = synapse.point_process
            mechanism.minis_rate = rate
            mechanism.minis_weight = synapse.netcon.weight[0]
            mechanism.minis_rng.set_ids(stream, cell.gid, index)
            mechanism.minis_rng.set_seq(0)
            count += 1
    for name, number in skipped.items():
        log.warning("spontaneous minis are not generated for %s synapses (%d synapses with a "
                    "rate on this rank)", name, number)
    return count
