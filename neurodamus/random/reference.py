"""The reference simulator's stream protocol (Open Brain Institute's neurodamus).

Its streams are NEURON Random123 streams too, keyed from 1-based (or 0-based) gids with its
own gid offsets and population ids; a circuit written for it draws the same numbers here
only if the keys are the same. Each function below is one stream, named by what it is
drawn for; the literals are the reference's."""

import hashlib
from dataclasses import dataclass

REFERENCE_OFFSET_BLOCK = 1000
RELEASE_OFFSET, GABA_RISE_OFFSET = 300, 450  # the third id's purpose offsets


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
    digest = hashlib.md5(name.encode()).digest()
    return ((digest[1] & 0x0F) << 8) + digest[0]


def reference_synapse_ids(target_gid_1based: int, synapse_index: int, source_population: str,
                          target_population: str, synapse_seed: int,
                          purpose_offset: int = RELEASE_OFFSET) -> tuple[int, int, int]:
    """Random123 ids of a synapse's release stream (purpose_offset 300) or of its GABA_A rise
    time draw (450): (tgid + 250, synapse index + 100, spop * 65536 + tpop + seed + offset)."""
    third = (reference_population_id(source_population) * 65536
             + reference_population_id(target_population) + synapse_seed + purpose_offset)
    return target_gid_1based + 250, synapse_index + 100, third


def minis_ids(target_gid_1based: int, synapse_index: int, source_population: str,
              target_population: str, minis_seed: int) -> tuple[int, int, int]:
    """A synapse's spontaneous-release (NdPoissonMinis) stream: (index + 200, tgid + 250,
    the release stream's third id of synapse 0 under minis_seed)."""
    *_, third = reference_synapse_ids(target_gid_1based, 0, source_population,
                                      target_population, minis_seed)
    return synapse_index + 200, target_gid_1based + 250, third


def glu_synapse_release_ids(target_gid_1based: int, synapse_index: int,
                            synapse_seed: int) -> tuple[int, int, int]:
    """GluSynapse's release stream: (tgid, 100000 + index, synapse_seed + 200)."""
    return target_gid_1based, 100000 + synapse_index, synapse_seed + 200


@dataclass(frozen=True)
class StimulusStream:
    """A noise input's ids: (block + first_id, stimulus_seed + seed_offset, third), the third
    the cell's 0-based reference gid + gid_offset, or the input's random_seed (all cells
    then draw the same numbers)."""

    first_id: int
    seed_offset: int
    gid_offset: int

    def ids(self, block_index: int, stimulus_seed: int, gid: int,
            random_seed: int | None = None) -> tuple[int, int, int]:
        third = int(random_seed) if random_seed is not None else gid + self.gid_offset
        return block_index + self.first_id, stimulus_seed + self.seed_offset, third


STIMULUS_STREAMS = {  # gid + 1 + 300 / + 123: the reference's 1-based gids
    "noise": StimulusStream(100, 500, 301),
    "shot_noise": StimulusStream(2997, 19216, 124),
    "ornstein_uhlenbeck": StimulusStream(2997, 291204, 124),
}


def set_global_index(h, random_seed: int):
    """Random123's global index (the 4th key word of every stream), set from run.random_seed
    as the reference simulator does."""
    h.Random().Random123_globalindex(int(random_seed))
