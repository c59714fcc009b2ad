"""`shot_noise`, `relative_shot_noise`, `absolute_shot_noise`: Poisson trains of
bi-exponential pulses with gamma distributed amplitudes, as a current (nA) or a conductance
(uS), sampled every `dt` ms (0.25 by default) and joined linearly between samples.

shot_noise takes the rate (Hz) and the amplitudes' mean and variance; the other two take
the signal's mean and standard deviation (absolute, or in percent of the threshold current
for a current and of the inverse input resistance for a conductance) and derive rate and
amplitudes through Campbell's theorem (biexponential.py).

Random stream (as the reference's): ids (block + 2997, stimulus_seed + 19216, gid + 124,
or the input's random_seed), the block counting the three modules together; the events
and amplitudes are drawn as random_signals.shot_noise describes. An input whose window
holds no whole dt, a shot_noise of rate 0 or a relative_shot_noise of mean_percent 0
does nothing and is not counted.
"""

from typing import ClassVar

from ..random.reference import STIMULUS_STREAMS
from .biexponential import BiexponentialKernel, ShotNoiseParameters, parameters_from_moments
from .node_values import relative_scale
from .random_signals import shot_noise
from .registry import NUMBER, ParameterType, register
from .sampled_noise import SampledNoise

COMMON: dict[str, ParameterType] = {"reversal": NUMBER, "dt": NUMBER, "random_seed": int,
          "represents_physical_electrode": bool}


class ShotNoiseFamily(SampledNoise):
    input_types = ("current_clamp", "conductance")
    defaults = {"dt": 0.25, "reversal": 0.0, "relative_skew": 0.5}
    # Annotated again: mypy would otherwise take these tuples' exact lengths as their types,
    # and the modules below list more names.
    positive: ClassVar[tuple[str, ...]] = ("rise_time", "decay_time", "dt")
    non_negative: ClassVar[tuple[str, ...]] = ("random_seed",)
    random_family = "shot_noise"
    STREAM = STIMULUS_STREAMS["shot_noise"]

    @classmethod
    def check(cls, parameters, input_type):
        rise, decay = parameters.get("rise_time"), parameters.get("decay_time")
        if rise is not None and decay is not None and 0 < decay <= rise:
            yield f"must be smaller than decay_time {decay}, got {rise}", "rise_time"
        skew = parameters.get("relative_skew")
        if skew is not None and not 0 <= skew < 1:
            yield f"must be in [0, 1), got {skew}", "relative_skew"
        yield from cls.check_signal(parameters, input_type)

    @classmethod
    def check_signal(cls, parameters, input_type):
        return ()

    def kernel(self) -> BiexponentialKernel:
        return BiexponentialKernel(float(self.parameter("rise_time")),
                                   float(self.parameter("decay_time")))

    def shot_parameters(self, cell) -> ShotNoiseParameters:
        raise NotImplementedError

    def draws(self) -> bool:
        return int(self.settings.duration / float(self.parameter("dt"))) > 0

    def samples(self, cell, rng, grid):
        p = self.shot_parameters(cell)
        kernel = self.kernel()
        return shot_noise(rng, grid.count, float(self.parameter("dt")), self.settings.duration,
                          p.rate, p.amp_mean, p.amp_var, kernel.rise_time, kernel.decay_time)


def _check_mean(name, value, input_type):
    if value is None:
        return
    if value == 0:
        yield "must not be 0", name
    elif input_type == "conductance" and value < 0:
        yield f"must be positive for a conductance, got {value}", name


@register("shot_noise")
class ShotNoise(ShotNoiseFamily):
    required = {"rise_time": NUMBER, "decay_time": NUMBER, "rate": NUMBER, "amp_mean": NUMBER,
                "amp_var": NUMBER}
    optional = COMMON
    non_negative = ("rate", "amp_var", "random_seed")
    idle_if_zero = ("rate",)

    @classmethod
    def check_signal(cls, parameters, input_type):
        yield from _check_mean("amp_mean", parameters.get("amp_mean"), input_type)

    def draws(self) -> bool:
        return super().draws() and float(self.parameter("rate")) > 0

    def shot_parameters(self, cell):
        return ShotNoiseParameters(float(self.parameter("rate")), float(self.parameter("amp_mean")),
                                   float(self.parameter("amp_var")))


@register("absolute_shot_noise")
class AbsoluteShotNoise(ShotNoiseFamily):
    required = {"rise_time": NUMBER, "decay_time": NUMBER, "mean": NUMBER, "sigma": NUMBER}
    optional = {**COMMON, "relative_skew": NUMBER}
    positive = ("rise_time", "decay_time", "dt", "sigma")

    @classmethod
    def check_signal(cls, parameters, input_type):
        yield from _check_mean("mean", parameters.get("mean"), input_type)

    def mean_and_sigma(self, cell) -> tuple[float, float]:
        return float(self.parameter("mean")), float(self.parameter("sigma"))

    def shot_parameters(self, cell):
        mean, sigma = self.mean_and_sigma(cell)
        return parameters_from_moments(self.kernel(), mean, sigma,
                                       float(self.parameter("relative_skew")))


@register("relative_shot_noise")
class RelativeShotNoise(AbsoluteShotNoise):
    required = {"rise_time": NUMBER, "decay_time": NUMBER, "mean_percent": NUMBER,
                "sd_percent": NUMBER}
    positive = ("rise_time", "decay_time", "dt", "sd_percent")

    @classmethod
    def check_signal(cls, parameters, input_type):
        # mean_percent 0: nothing to do (accepted, as the reference accepts it).
        if parameters.get("mean_percent") != 0:
            yield from _check_mean("mean_percent", parameters.get("mean_percent"), input_type)

    def draws(self) -> bool:
        return super().draws() and float(self.parameter("mean_percent")) != 0

    def mean_and_sigma(self, cell) -> tuple[float, float]:
        scale = relative_scale(cell, self.settings)  # the reference's order of operations
        return ((float(self.parameter("mean_percent")) / 100) * scale,
                (float(self.parameter("sd_percent")) / 100) * scale)
