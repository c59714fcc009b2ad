"""`noise`: a current of normally distributed values (mean, variance), a new value every
`dt` ms, joined linearly. `dt` is our extension (SONATA and libsonata have none; the
reference simulator always uses 0.5 ms, our default).

With `mean_percent` the mean is that percentage of the node's threshold_current, and
`variance` is read as a percentage too: the variance in nA^2 is variance / 100 times the
threshold current, as the reference simulator reads it (so configs written for it keep
their meaning).

Random stream (as the reference's): ids (block + 100, stimulus_seed + 500, gid + 301),
one stream per cell; an input that starts after t = 0 first discards the draws of
random_signals.skip_before_delay; then each site, in turn, takes a new normal(mean,
variance) distribution from the same stream, discards its first draw and takes one sample
per grid time.
"""

from ..errors import CircuitError
from ..random.reference import STIMULUS_STREAMS
from .node_values import node_value
from .random_signals import gaussian, skip_before_delay
from .registry import NUMBER, register
from .sampled_noise import SampledNoise


@register("noise")
class Noise(SampledNoise):
    input_types = ("current_clamp",)
    optional = {"mean": NUMBER, "mean_percent": NUMBER, "variance": NUMBER, "dt": NUMBER,
                "represents_physical_electrode": bool}
    defaults = {"variance": 0.0, "dt": 0.5}
    positive = ("dt",)
    non_negative = ("variance",)
    random_family = "noise"
    STREAM = STIMULUS_STREAMS["noise"]

    @classmethod
    def check(cls, parameters, input_type):
        given = [name for name in ("mean", "mean_percent") if name in parameters]
        if len(given) != 1:
            yield (f"module 'noise' needs exactly one of mean and mean_percent, got "
                   f"{' and '.join(given) or 'neither'}", "mean")

    def mean_and_variance(self, cell) -> tuple[float, float]:
        """(nA, nA^2) for this cell."""
        variance = float(self.parameter("variance"))
        if "mean" in self.settings.parameters:
            return float(self.parameter("mean")), variance
        threshold = node_value(cell, "threshold_current", self.settings)
        if threshold < 0 and variance > 0:
            raise CircuitError(f"input '{self.settings.name}': variance as a percentage of the "
                               f"negative threshold_current {threshold} of node {cell.node_id}",
                               population=cell.population)
        return threshold * float(self.parameter("mean_percent")) / 100, threshold * variance / 100

    def waveforms(self, cell, context, site_count):
        mean, variance = self.mean_and_variance(cell)
        grid, rng = self.grid(), self.stream(cell, context)
        skip_before_delay(rng, self.settings.delay, self.settings.duration,
                          float(self.parameter("dt")), context.dt)
        return [grid.waveform(gaussian(rng, grid.count, mean, variance))
                for _ in range(site_count)]
