"""Our own stream protocol: every Random123 stream is keyed by (purpose, seed, gid, index),
never by rank or creation order, so a simulation gives the same results on any number of
ranks. NEURON's Random123 takes three 32-bit ids; the purpose goes into the top bits of
the first, so streams of different purposes never coincide even with equal seeds.

Used by our own synapse models (NdTm) and bmtk's run-time synapse placement; the BBP
models and the noise inputs follow the reference simulator's protocol (reference.py)."""

from enum import IntEnum


class Purpose(IntEnum):
    """What a stream is drawn for. 4 is retired (it was meant for inputs, which key their
    streams as the reference does): never reuse a value, it would change the streams."""

    SYNAPSE_RELEASE = 1
    MINIS = 2
    GABA_RISE_TIME = 3
    SYNAPSE_PLACEMENT = 5  # bmtk edges placed at run time (target_sections, distance_range)


def stream_ids(purpose: Purpose, seed: int, gid: int, index: int) -> tuple[int, int, int]:
    if not 0 <= seed < 1 << 24:
        raise ValueError(f"seed {seed} must be in [0, 2**24)")
    return (int(purpose) << 24 | seed, int(gid), int(index))


def purpose_id(purpose: Purpose, seed: int) -> int:
    """The first Random123 id of every stream of this purpose and seed."""
    return stream_ids(purpose, seed, 0, 0)[0]
