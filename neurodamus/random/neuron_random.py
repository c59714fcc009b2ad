"""Random numbers of the noise modules, draw for draw those of NEURON's `Random` object after
`.Random123(id1, id2, id3)`, as the reference simulator (neurodamus) draws them.

The generator is Philox4x32-10 (Salmon et al., SC'11) as NEURON's nrnran123 uses it: the
counter is (seq, id3, id1, id2), the key (global index, 0), each counter gives four 32-bit
words, used in order, seq counting from 0. The global index is process-wide in NEURON
(`Random123_globalindex`); the reference sets it to `run.random_seed` before anything draws.
Here it is an argument, so that no global state enters.

Over those words NEURON's distributions (the GNU libg++ classes) work on doubles
u = (word + 1) / (2**32 + 1), in (0, 1):
- uniform(low, high): low + (high - low) u;
- negexp(mean): -mean log(u);
- normal(mean, variance): the polar method on consecutive pairs (u1, u2): v = 2 u - 1,
  w = v1^2 + v2^2, pairs with w > 1 rejected; an accepted pair gives two standard normals
  v1 y and v2 y, y = sqrt(-2 log(w) / w); the first is returned, the second kept for the
  next draw; each value is scaled as z sqrt(variance) + mean.
A new `Random` starts as normal(0, 1). Choosing a distribution (`normal(...)`,
`uniform(...)`, `negexp(...)`) makes a new one, which forgets a kept normal, and returns
one draw from it; `Vector.setrand` then fills a vector with further draws (`draw` here).

`NeuronRandom` reproduces this with the same floating-point operations, vectorised with
NumPy where NumPy's results are correctly rounded (+ - * /, sqrt) and with the C library's
`log` where they are not (../libm.py: NumPy's AVX-512 log differs by an ulp); the unit
tests check it against an independent implementation and against NEURON.
"""

import math

import numpy as np

from .. import libm

PHILOX_MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
PHILOX_WEYL = (0x9E3779B9, 0xBB67AE85)  # the key's increments between rounds
PHILOX_ROUNDS = 10
WORD = 1 << 32
UNIFORM_SCALE = 1.0 / 4294967297.0  # NEURON: (word + 1) * (1 / (2**32 + 1))

_MASK = np.uint64(WORD - 1)
_SHIFT = np.uint64(32)


def philox4x32(counters: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """Philox4x32-10 of each row of `counters` (n x 4 words) under `key` (two words)."""
    words = np.asarray(counters, dtype=np.uint64)
    x0, x1, x2, x3 = (words[:, i] for i in range(4))
    k0, k1 = int(key[0]), int(key[1])
    m0, m1 = (np.uint64(m) for m in PHILOX_MULTIPLIERS)
    for round_index in range(PHILOX_ROUNDS):
        if round_index:
            k0, k1 = (k0 + PHILOX_WEYL[0]) % WORD, (k1 + PHILOX_WEYL[1]) % WORD
        product0, product1 = x0 * m0, x2 * m1  # 32 x 32 bits: exact in 64 bits
        x0, x1, x2, x3 = ((product1 >> _SHIFT) ^ x1 ^ np.uint64(k0), product1 & _MASK,
                          (product0 >> _SHIFT) ^ x3 ^ np.uint64(k1), product0 & _MASK)
    return np.stack([x0, x1, x2, x3], axis=1)


def _check_word(name: str, value: int):
    if not 0 <= value < WORD:
        raise ValueError(f"Random123 {name} {value} must be in [0, 2**32)")


class Random123Stream:
    """The words of NEURON's Random123 stream (id1, id2, id3) under `global_index`."""

    def __init__(self, ids: tuple[int, int, int], global_index: int = 0):
        for position, value in enumerate(ids, 1):
            _check_word(f"id{position}", int(value))
        _check_word("global index", int(global_index))
        self.ids = tuple(int(i) for i in ids)
        self.key = (int(global_index), 0)

    def words(self, start: int, count: int) -> np.ndarray:
        """Words start .. start + count - 1 of the stream (uint64 holding 32 bits)."""
        if count <= 0:
            return np.zeros(0, np.uint64)
        first, last = start // 4, (start + count - 1) // 4
        if last >= WORD:  # NEURON's counter would carry into id3: another stream
            raise ValueError("a Random123 stream has 2**34 words")
        id1, id2, id3 = self.ids
        seq = np.arange(first, last + 1, dtype=np.uint64)
        counters = np.empty((seq.size, 4), np.uint64)
        counters[:, 0], counters[:, 1], counters[:, 2], counters[:, 3] = seq, id3, id1, id2
        block = philox4x32(counters, self.key).ravel()
        offset = start - 4 * first
        return block[offset:offset + count]


class NeuronRandom:
    """NEURON's `h.Random()` after `.Random123(*ids)` (with `Random123_globalindex` set to
    `global_index`): `normal`, `uniform` and `negexp` choose a distribution and return one
    draw, `draw(n)` is `Vector(n).setrand(r)`. Same draws, same order, same arithmetic."""

    CHUNK = 1 << 14  # uniforms computed ahead at a time

    def __init__(self, ids: tuple[int, int, int], global_index: int = 0):
        self._stream = Random123Stream(ids, global_index)
        self._uniforms = np.zeros(0)  # computed ahead, from stream word `_offset`
        self._scalars: list[float] | None = []  # the same, for one-at-a-time use (lazily)
        self._offset = 0
        self._next = 0  # words used so far
        self._distribution = ("normal", 0.0, 1.0)  # (kind, a, b): see _transform
        self._kept_normal: float | None = None

    @property
    def position(self) -> int:
        """How many 32-bit words have been used."""
        return self._next

    # Choosing a distribution: a new one, one draw returned (as NEURON's Random does).
    def normal(self, mean: float, variance: float) -> float:
        self._distribution, self._kept_normal = ("normal", mean, math.sqrt(variance)), None
        z = self._kept_or_new_normal()
        return z * self._distribution[2] + mean

    def uniform(self, low: float, high: float) -> float:
        self._distribution, self._kept_normal = ("uniform", low, high - low), None
        return low + (high - low) * self._next_uniform()

    def negexp(self, mean: float) -> float:
        self._distribution, self._kept_normal = ("negexp", mean, 0.0), None
        return -mean * math.log(self._next_uniform())

    def draw(self, count: int) -> np.ndarray:
        """`count` more draws of the current distribution."""
        kind, a, b = self._distribution
        if kind == "normal":
            return self._standard_normals(count) * b + a
        u = self._take(count)
        return a + b * u if kind == "uniform" else -a * libm.log(u)

    # Uniforms in (0, 1), one word each.
    def _reserve(self, count: int):
        available = self._offset + self._uniforms.size - self._next
        if available >= count:
            return
        keep = self._uniforms[self._next - self._offset:]
        start = self._next + keep.size
        fresh = (self._stream.words(start, max(count - keep.size, self.CHUNK)).astype(float)
                 + 1.0) * UNIFORM_SCALE
        self._uniforms = np.concatenate([keep, fresh])
        self._scalars = None
        self._offset = self._next

    def _peek(self, count: int) -> np.ndarray:
        self._reserve(count)
        start = self._next - self._offset
        return self._uniforms[start:start + count]

    def _take(self, count: int) -> np.ndarray:
        values = self._peek(count)
        self._next += count
        return values

    def _next_uniform(self) -> float:
        if self._next >= self._offset + self._uniforms.size:
            self._reserve(1)
        if self._scalars is None:
            self._scalars = self._uniforms.tolist()
        value = self._scalars[self._next - self._offset]
        self._next += 1
        return value

    # The polar method, one pair at a time or vectorised.
    def _kept_or_new_normal(self) -> float:
        if self._kept_normal is not None:
            z, self._kept_normal = self._kept_normal, None
            return z
        while True:
            v1 = 2.0 * self._next_uniform() - 1.0
            v2 = 2.0 * self._next_uniform() - 1.0
            w = v1 * v1 + v2 * v2
            if w <= 1.0:
                y = math.sqrt((-2.0 * math.log(w)) / w)
                self._kept_normal = v2 * y
                return v1 * y

    def _standard_normals(self, count: int) -> np.ndarray:
        out = np.empty(count)
        filled = 0
        if count and self._kept_normal is not None:
            out[0], self._kept_normal, filled = self._kept_normal, None, 1
        while filled < count:
            pairs = (count - filled + 1) // 2  # accepted pairs still needed
            candidates = int(pairs * 1.3) + 16  # ~pi/4 of the pairs are accepted
            v = 2.0 * self._peek(2 * candidates) - 1.0
            v1, v2 = v[0::2], v[1::2]
            w = v1 * v1 + v2 * v2
            accepted = np.flatnonzero(w <= 1.0)[:pairs]
            if accepted.size == 0:
                self._next += 2 * candidates
                continue
            self._next += 2 * (int(accepted[-1]) + 1)  # up to the last pair used
            w = w[accepted]
            y = np.sqrt((-2.0 * libm.log(w)) / w)
            both = np.empty(2 * accepted.size)
            both[0::2], both[1::2] = v1[accepted] * y, v2[accepted] * y
            used = min(both.size, count - filled)
            out[filled:filled + used] = both[:used]
            filled += used
            if used < both.size:
                self._kept_normal = float(both[used])
        return out
