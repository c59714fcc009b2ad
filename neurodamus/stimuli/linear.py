"""`linear` and `relative_linear`: a current ramp from its start to its end amplitude
between delay and delay + duration (a step when the end is not given)."""

from .node_values import node_value
from .registry import NUMBER, register
from .waveform_stimulus import WaveformStimulus
from .waveforms import ramp


@register("linear")
class Linear(WaveformStimulus):
    """amp_start, amp_end in nA."""

    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER}
    optional = {"amp_end": NUMBER, "represents_physical_electrode": bool}

    def amplitudes(self, cell) -> tuple[float, float]:
        start = float(self.parameter("amp_start"))
        return start, float(self.settings.parameters.get("amp_end", start))

    def waveform(self, cell, context, site_index):
        return ramp(self.settings.delay, self.settings.duration, *self.amplitudes(cell))


@register("relative_linear")
class RelativeLinear(Linear):
    """percent_start, percent_end of the node's threshold_current."""

    required = {"percent_start": NUMBER}
    optional = {"percent_end": NUMBER, "represents_physical_electrode": bool}

    def amplitudes(self, cell) -> tuple[float, float]:
        threshold = node_value(cell, "threshold_current", self.settings)
        start = float(self.parameter("percent_start"))
        end = float(self.settings.parameters.get("percent_end", start))
        return threshold * (start / 100), threshold * (end / 100)  # the reference's rounding
