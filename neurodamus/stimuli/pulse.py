"""`pulse`: a train of square current pulses (amp_start nA, width ms) at `frequency` Hz from
delay; the window delay + duration cuts the train, the last pulse possibly short.

A width or a frequency of 0 makes no pulses. `amp_end`, found in configs written for the
reference simulator, is accepted and has no effect there nor here (libsonata's pulse has no
such field: the pulses all have amp_start)."""

from .registry import NUMBER, register
from .waveform_stimulus import WaveformStimulus
from .waveforms import pulse_train


@register("pulse")
class Pulse(WaveformStimulus):
    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER, "width": NUMBER, "frequency": NUMBER}
    optional = {"amp_end": NUMBER, "represents_physical_electrode": bool}
    non_negative = ("width", "frequency")
    idle_if_zero = ("width", "frequency")

    @classmethod
    def check(cls, parameters, input_type):
        if parameters["width"] > 0 and parameters["frequency"] > 0:
            period = 1000.0 / parameters["frequency"]
            if parameters["width"] > period:
                yield (f"pulses of {parameters['width']} ms overlap at {parameters['frequency']} "
                       f"Hz (period {period:g} ms)", "width")

    def waveforms(self, cell, context, site_count):
        if not (self.parameter("width") > 0 and self.parameter("frequency") > 0):
            return []
        return super().waveforms(cell, context, site_count)

    def waveform(self, cell, context, site_index):
        return pulse_train(self.settings.delay, self.settings.duration,
                           float(self.parameter("amp_start")), float(self.parameter("width")),
                           1000.0 / float(self.parameter("frequency")))
