"""Identifiers of Random123 streams: every stream is keyed by (purpose, seed, gid, index),
never by rank or creation order, so a simulation gives the same results on any number of
ranks. NEURON's Random123 takes three 32-bit ids; the purpose goes into the top bits of
the first, so streams of different purposes never coincide even with equal seeds."""

from enum import IntEnum


class Purpose(IntEnum):
    SYNAPSE_RELEASE = 1
    MINIS = 2
    GABA_RISE_TIME = 3
    STIMULUS = 4


def stream_ids(purpose: Purpose, seed: int, gid: int, index: int) -> tuple[int, int, int]:
    if not 0 <= seed < 1 << 24:
        raise ValueError(f"seed {seed} must be in [0, 2**24)")
    return (int(purpose) << 24 | seed, int(gid), int(index))


def purpose_id(purpose: Purpose, seed: int) -> int:
    """The first Random123 id of every stream of this purpose and seed."""
    return stream_ids(purpose, seed, 0, 0)[0]
