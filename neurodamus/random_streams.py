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
    SYNAPSE_PLACEMENT = 5  # bmtk edges placed at run time (target_sections, distance_range)


def stream_ids(purpose: Purpose, seed: int, gid: int, index: int) -> tuple[int, int, int]:
    if not 0 <= seed < 1 << 24:
        raise ValueError(f"seed {seed} must be in [0, 2**24)")
    return (int(purpose) << 24 | seed, int(gid), int(index))


def purpose_id(purpose: Purpose, seed: int) -> int:
    """The first Random123 id of every stream of this purpose and seed."""
    return stream_ids(purpose, seed, 0, 0)[0]


# -- The reference simulator's protocol (Open Brain Institute's neurodamus) ---------------
# Its streams are NEURON Random123 streams too, keyed from 1-based gids with its own gid
# offsets and population ids; a circuit written for it draws the same numbers here only if
# the keys are the same.

REFERENCE_OFFSET_BLOCK = 1000


def reference_gid_offsets(population_sizes: dict[str, int]) -> dict[str, int]:
    """Its gid offsets: populations sorted by name, each starting at the next multiple of
    1000 above the previous population's last 0-based gid."""
    offsets, previous_end = {}, None
    for name in sorted(population_sizes):
        if previous_end is None:
            offsets[name] = 0
        else:
            offsets[name] = (previous_end // REFERENCE_OFFSET_BLOCK + 1) * REFERENCE_OFFSET_BLOCK
        previous_end = offsets[name] + max(population_sizes[name] - 1, 0)
    return offsets


def reference_population_id(name: str) -> int:
    """Its 12-bit population id: bytes 0 and 1 (low nibble) of the MD5 of the name."""
    import hashlib

    digest = hashlib.md5(name.encode()).digest()
    return ((digest[1] & 0x0F) << 8) + digest[0]


def reference_synapse_ids(target_gid_1based: int, synapse_index: int, source_population: str,
                          target_population: str, synapse_seed: int,
                          purpose_offset: int = 300) -> tuple[int, int, int]:
    """Random123 ids of a synapse's release stream (purpose_offset 300) or of its GABA_A rise
    time draw (450): (tgid + 250, synapse index + 100, spop * 65536 + tpop + seed + offset)."""
    third = (reference_population_id(source_population) * 65536
             + reference_population_id(target_population) + synapse_seed + purpose_offset)
    return target_gid_1based + 250, synapse_index + 100, third


def set_global_index(h, random_seed: int):
    """Random123's global index (the 4th key word of every stream), set from run.random_seed
    as the reference simulator does."""
    h.Random().Random123_globalindex(int(random_seed))
