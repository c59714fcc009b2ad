"""Weights of one core as 4 base currents and a 4-bit mask per synapse, least squared error.

A synapse's magnitude on the chip is sum_k b_k·Iw_k (b its 4-bit mask), so a core offers the
16 subset sums of its 4 base weights. We pick the base weights and masks by alternating two
steps that can only lower the squared error, starting from binary base weights
(max/15 · 1, 2, 4, 8), which give exactly the 16 evenly spaced levels 0, max/15, ..., max:
  1. each weight takes the mask of the nearest subset sum (lowest mask on a tie);
  2. given the masks, the base weights are the non-negative least-squares solution.
No randomness, so the same weights always give the same codes; and the result is never
worse than rounding every weight to the nearest of those 16 evenly spaced levels.
Magnitudes only: the sign picks the synapse type (AMPA or GABA) in routing.py.
"""

import itertools

import numpy as np

N_BASE_WEIGHTS = 4
MASK_BITS = np.array([[(mask >> k) & 1 for k in range(N_BASE_WEIGHTS)]
                      for mask in range(2 ** N_BASE_WEIGHTS)], dtype=float)   # [16, 4]
MAX_ITERATIONS = 100


def subset_sums(base: np.ndarray) -> np.ndarray:
    """The 16 magnitudes a core can give: entry m is sum of base[k] over the bits k of m."""
    return MASK_BITS @ base


def nearest_masks(magnitudes: np.ndarray, base: np.ndarray) -> np.ndarray:
    return np.argmin(np.abs(magnitudes[:, None] - subset_sums(base)[None, :]), axis=1)


def squared_error(magnitudes: np.ndarray, base: np.ndarray, masks: np.ndarray) -> float:
    return float(np.sum((magnitudes - subset_sums(base)[masks]) ** 2))


def _non_negative_least_squares(bits: np.ndarray, magnitudes: np.ndarray) -> np.ndarray:
    """min |bits·x - magnitudes|² with x >= 0, exactly: 4 unknowns, so try every support.

    Works on the 4x4 normal equations, so each try costs nothing however many weights.
    """
    gram, projection = bits.T @ bits, bits.T @ magnitudes
    best, best_error = np.zeros(N_BASE_WEIGHTS), float(magnitudes @ magnitudes)
    for size in range(1, N_BASE_WEIGHTS + 1):
        for support in itertools.combinations(range(N_BASE_WEIGHTS), size):
            s = list(support)
            solution = np.linalg.lstsq(gram[np.ix_(s, s)], projection[s], rcond=None)[0]
            if (solution < 0).any():
                continue
            error = (float(magnitudes @ magnitudes) - 2 * float(solution @ projection[s])
                     + float(solution @ gram[np.ix_(s, s)] @ solution))
            if error < best_error:
                best = np.zeros(N_BASE_WEIGHTS)
                best[s] = solution
                best_error = error
    return best


def _refine(magnitudes: np.ndarray, base: np.ndarray):
    masks = nearest_masks(magnitudes, base)
    error = squared_error(magnitudes, base, masks)
    for _ in range(MAX_ITERATIONS):
        new_base = _non_negative_least_squares(MASK_BITS[masks], magnitudes)
        new_masks = nearest_masks(magnitudes, new_base)
        new_error = squared_error(magnitudes, new_base, new_masks)
        if not new_error < error * (1 - 1e-12):
            break
        base, masks, error = new_base, new_masks, new_error
    return base, masks, error


def quantize_weights(magnitudes) -> tuple[np.ndarray, np.ndarray]:
    """(4 base weights, a mask 0..15 per weight) for the non-negative `magnitudes` of one core.

    Two starts are refined and the better kept: the binary one, and, where the core has at
    most 4 distinct magnitudes, those magnitudes themselves (which represent them exactly).
    """
    magnitudes = np.asarray(magnitudes, dtype=float)
    if not magnitudes.size or magnitudes.max() <= 0:
        return np.zeros(N_BASE_WEIGHTS), np.zeros(magnitudes.size, dtype=np.int64)
    starts = [magnitudes.max() / 15 * np.array([1.0, 2.0, 4.0, 8.0])]
    distinct = np.unique(magnitudes[magnitudes > 0])
    if len(distinct) <= N_BASE_WEIGHTS:
        starts.append(np.pad(distinct, (0, N_BASE_WEIGHTS - len(distinct))))
    results = [_refine(magnitudes, start) for start in starts]
    base, masks, _ = min(results, key=lambda result: result[2])
    return base, masks.astype(np.int64)


def evenly_spaced_rounding_error(magnitudes) -> float:
    """Squared error of rounding each weight to the nearest of 0, max/15, ..., max (baseline)."""
    magnitudes = np.asarray(magnitudes, dtype=float)
    if not magnitudes.size or magnitudes.max() <= 0:
        return 0.0
    levels = np.linspace(0.0, magnitudes.max(), 16)
    nearest = levels[np.argmin(np.abs(magnitudes[:, None] - levels[None, :]), axis=1)]
    return float(np.sum((magnitudes - nearest) ** 2))
