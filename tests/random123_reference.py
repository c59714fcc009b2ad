"""An independent, scalar Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
numbers: as easy as 1, 2, 3", SC'11) and the doubles NEURON's Random123 streams make of its
words: the tests' reference for every stream the driver keys, written apart from the code
under test."""


MASK = 0xFFFFFFFF


def philox_round(x, k):
    """One Philox4x32 round: two 32 x 32 -> 64-bit products, their halves crossed."""
    hi0, lo0 = divmod(0xD2511F53 * x[0], 1 << 32)
    hi1, lo1 = divmod(0xCD9E8D57 * x[2], 1 << 32)
    return [hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0]


def philox4x32_10(counter, key):
    x, k = list(counter), list(key)
    for r in range(10):
        if r > 0:  # the Weyl sequence bumps the key between rounds
            k = [(k[0] + 0x9E3779B9) & MASK, (k[1] + 0xBB67AE85) & MASK]
        x = philox_round(x, k)
    return x


def neuron_uniforms(id1, id2, id3, global_index):
    """NEURON's Random123 doubles: counter (seq, id3, id1, id2), key (global index, 0), four
    words per counter; word w gives (w + 1) / (2**32 + 1), strictly inside (0, 1)."""
    seq = 0
    while True:
        for word in philox4x32_10((seq, id3, id1, id2), (global_index, 0)):
            yield (word + 1) / 4294967297
        seq += 1
