"""`sinusoidal`: amp_start * sin(2 pi frequency (t - delay)) nA, sampled every `dt` ms
(0.025 by default) from delay, joined linearly between samples, 0 outside the window.

As the reference simulator builds it: samples at waveforms.indgen(delay, delay + duration,
dt) (the end included when duration is a multiple of dt) with NEURON's Vector.sin
arithmetic, then a linear return to 0 at the window's end (over the last partial step
when duration is not a multiple of dt). A frequency of 0 does nothing.
"""

import math

import numpy as np

from .. import libm
from .registry import NUMBER, register
from .waveform_stimulus import WaveformStimulus
from .waveforms import Waveform, indgen


@register("sinusoidal")
class Sinusoidal(WaveformStimulus):
    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER, "frequency": NUMBER}
    optional = {"dt": NUMBER, "represents_physical_electrode": bool}
    defaults = {"dt": 0.025}
    positive = ("dt",)
    non_negative = ("frequency",)
    idle_if_zero = ("frequency",)

    def waveforms(self, cell, context, site_count):
        if not self.parameter("frequency") > 0:
            return []
        return super().waveforms(cell, context, site_count)

    def waveform(self, cell, context, site_index):
        delay, dt = self.settings.delay, float(self.parameter("dt"))
        end = delay + self.settings.duration
        times = indgen(delay, end, dt)
        step = 2 * math.pi / 1000 * float(self.parameter("frequency")) * dt  # Vector.sin's
        values = libm.sin(step * np.arange(times.size) + 0.0) * float(self.parameter("amp_start"))
        return Waveform(np.append(np.minimum(times, end), end), np.append(values, 0.0))
