"""`sinusoidal`: amp_start * sin(2 pi frequency (t - delay)) nA, sampled every `dt` ms
(0.025 by default) from delay, joined linearly between samples, 0 outside the window."""

import math

import numpy as np

from .registry import NUMBER, register
from .waveform_stimulus import WaveformStimulus
from .waveforms import SampleGrid


@register("sinusoidal")
class Sinusoidal(WaveformStimulus):
    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER, "frequency": NUMBER}
    optional = {"dt": NUMBER, "represents_physical_electrode": bool}
    defaults = {"dt": 0.025}
    positive = ("dt",)
    non_negative = ("frequency",)

    def waveform(self, cell, context, site_index):
        delay = self.settings.delay
        amplitude = float(self.parameter("amp_start"))
        angular = 2 * math.pi * float(self.parameter("frequency")) / 1000.0  # rad / ms
        grid = SampleGrid(delay, delay + self.settings.duration, float(self.parameter("dt")))
        return grid.joined(lambda t: amplitude * np.sin(angular * (t - delay)))
