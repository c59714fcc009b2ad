"""Device mismatch for robustness runs of `--simulate`: every neuron's own currents, perturbed.

A core is programmed with one set of biases, but on silicon each neuron's transistors differ, so
each neuron sees its own version of each current. We model that as independent Gaussian
relative deviations, per neuron and per current (the 13 of parameters.CURRENT_NAMES and the 4
base weights Iw_0..Iw_3 its CAM entries add up):

    I_neuron = I_core · (1 + sigma·z),   z ~ N(0, 1),   sigma = PERCENT / 100

drawn from numpy's default generator seeded with SEED, so a seed gives the same chip every
time. A current that is off (0) stays off; one drawn at or below zero (a tail that only a large
sigma reaches) is clipped to the dark current I_0 and counted.

The chip model reads per-core rows (ChipConfig.core_currents[neuron_core_row]); to give each
neuron its own row without touching it, `mismatched_config` returns a ChipConfig whose current
rows are one per neuron and whose neuron_core_row points neuron i at row i. Its neuron
addresses, CAM and routes are those of the export; use it for simulation only.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from .chip_config import ChipConfig
from .errors import ExportConfigError
from .parameters import I_0


@dataclass(frozen=True)
class PerNeuronCurrents(ChipConfig):
    """A ChipConfig whose core_* arrays have one row per neuron (row i: neuron i)."""

    @property
    def neuron_core_row(self) -> np.ndarray:
        return np.arange(len(self.neuron_node_id))


@dataclass(frozen=True)
class MismatchReport:
    percent: float
    seed: int
    n_currents: int       # currents perturbed (those that are on)
    n_clipped: int        # drawn at or below zero, set to I_0
    spread: float         # measured std of I_neuron / I_core - 1 over the perturbed currents

    def summary(self) -> str:
        return (f"mismatch: {self.percent:g}% (seed {self.seed}): {self.n_currents} neuron "
                f"currents perturbed, measured spread {self.spread * 100:.3g}%, "
                f"{self.n_clipped} clipped at I_0")


def check_mismatch_percent(percent: float) -> None:
    if not (np.isfinite(percent) and 0 <= percent <= 100):
        raise ExportConfigError(f"needs a percentage from 0 to 100, got {percent:g}",
                                key="--mismatch")


def perturb(currents: np.ndarray, percent: float, rng: np.random.Generator):
    """(perturbed copy, number clipped at I_0): Gaussian relative deviations of sigma=percent%."""
    sigma = percent / 100
    draws = rng.standard_normal(currents.shape)
    perturbed = currents * (1 + sigma * draws)
    clipped = (currents > 0) & (perturbed <= 0)
    perturbed[clipped] = I_0
    return perturbed, int(clipped.sum())


def mismatched_config(config: ChipConfig, percent: float, seed: int):
    """(PerNeuronCurrents, MismatchReport): each neuron's currents and base weights perturbed."""
    check_mismatch_percent(percent)
    rng = np.random.default_rng(seed)
    rows = config.neuron_core_row
    nominal_currents, nominal_weights = config.core_currents[rows], config.core_base_weights[rows]
    currents, clipped_currents = perturb(nominal_currents, percent, rng)
    weights, clipped_weights = perturb(nominal_weights, percent, rng)
    nominal = np.concatenate([nominal_currents.ravel(), nominal_weights.ravel()])
    drawn = np.concatenate([currents.ravel(), weights.ravel()])
    on = nominal > 0
    spread = float(np.std(drawn[on] / nominal[on] - 1)) if on.any() else 0.0
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    fields.update(core_chip=config.neuron_chip, core_index=config.neuron_core,
                  core_currents=currents, core_spread=config.core_spread[rows],
                  core_base_weights=weights)
    report = MismatchReport(float(percent), int(seed), int(on.sum()),
                            clipped_currents + clipped_weights, spread)
    return PerNeuronCurrents(**fields), report
