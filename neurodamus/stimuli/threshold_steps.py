"""`subthreshold` and `hyperpolarizing`: constant currents set by the node's own dynamics
(threshold_current, holding_current) for the input's window."""

from .node_values import node_value
from .registry import NUMBER, register
from .waveform_stimulus import WaveformStimulus
from .waveforms import ramp


@register("subthreshold")
class Subthreshold(WaveformStimulus):
    """(100 - percent_less) % of threshold_current: percent_less 20 gives 80 %, -20 gives 120 %."""

    input_types = ("current_clamp",)
    required = {"percent_less": NUMBER}
    optional = {"represents_physical_electrode": bool}

    def amplitude(self, cell) -> float:
        threshold = node_value(cell, "threshold_current", self.settings)
        return threshold * (100 - float(self.parameter("percent_less"))) / 100

    def waveform(self, cell, context, site_index):
        amplitude = self.amplitude(cell)
        return ramp(self.settings.delay, self.settings.duration, amplitude, amplitude)


@register("hyperpolarizing")
class Hyperpolarizing(Subthreshold):
    """The node's holding_current, which holds the cell at its experimental base voltage."""

    required = {}

    def amplitude(self, cell) -> float:
        return node_value(cell, "holding_current", self.settings)
