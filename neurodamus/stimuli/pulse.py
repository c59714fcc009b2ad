"""`pulse`: a train of square current pulses (amp_start nA, width ms) at `frequency` Hz from
delay; the window delay + duration cuts the train, the last pulse possibly short."""

from .registry import NUMBER, register
from .waveform_stimulus import WaveformStimulus
from .waveforms import pulse_train


@register("pulse")
class Pulse(WaveformStimulus):
    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER, "width": NUMBER, "frequency": NUMBER}
    optional = {"represents_physical_electrode": bool}
    positive = ("width", "frequency")

    @classmethod
    def check(cls, parameters, input_type):
        if parameters["width"] > 0 and parameters["frequency"] > 0:
            period = 1000.0 / parameters["frequency"]
            if parameters["width"] > period:
                yield (f"pulses of {parameters['width']} ms overlap at {parameters['frequency']} "
                       f"Hz (period {period:g} ms)", "width")

    def waveform(self, cell, context, site_index):
        return pulse_train(self.settings.delay, self.settings.duration,
                           float(self.parameter("amp_start")), float(self.parameter("width")),
                           1000.0 / float(self.parameter("frequency")))
