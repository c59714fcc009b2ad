"""`ornstein_uhlenbeck`, `relative_ornstein_uhlenbeck`: an Ornstein-Uhlenbeck process of
mean, standard deviation sigma and correlation time tau, as a current (nA) or a conductance
(uS, clipped at 0), sampled exactly every `dt` ms (0.25 by default) from the mean at
delay, joined linearly between samples. The relative form gives mean and sigma in percent
of the threshold current (current) or of the inverse input resistance (conductance).

Random stream (as the reference's): ids (block + 2997, stimulus_seed + 291204, gid + 124,
or the input's random_seed), the block counting both modules together."""

from ..random.reference import STIMULUS_STREAMS
from .node_values import relative_scale
from .random_signals import ornstein_uhlenbeck
from .registry import NUMBER, register
from .sampled_noise import SampledNoise


@register("ornstein_uhlenbeck")
class OrnsteinUhlenbeck(SampledNoise):
    input_types = ("current_clamp", "conductance")
    required = {"tau": NUMBER, "mean": NUMBER, "sigma": NUMBER}
    optional = {"reversal": NUMBER, "dt": NUMBER, "random_seed": int,
                "represents_physical_electrode": bool}
    defaults = {"dt": 0.25, "reversal": 0.0}
    positive = ("dt",)
    non_negative = ("tau", "sigma", "random_seed")
    random_family = "ornstein_uhlenbeck"
    STREAM = STIMULUS_STREAMS["ornstein_uhlenbeck"]

    def mean_and_sigma(self, cell) -> tuple[float, float]:
        return float(self.parameter("mean")), float(self.parameter("sigma"))

    def samples(self, cell, rng, grid):
        mean, sigma = self.mean_and_sigma(cell)
        return ornstein_uhlenbeck(rng, grid.count, float(self.parameter("dt")),
                                  float(self.parameter("tau")), mean, sigma)


@register("relative_ornstein_uhlenbeck")
class RelativeOrnsteinUhlenbeck(OrnsteinUhlenbeck):
    required = {"tau": NUMBER, "mean_percent": NUMBER, "sd_percent": NUMBER}
    non_negative = ("tau", "sd_percent", "random_seed")

    def mean_and_sigma(self, cell) -> tuple[float, float]:
        scale = relative_scale(cell, self.settings)  # the reference's order of operations
        return ((float(self.parameter("mean_percent")) / 100) * scale,
                (float(self.parameter("sd_percent")) / 100) * scale)
