"""`seclamp`: NEURON's single-electrode voltage clamp (SEClamp) at the target sites.

The command is `voltage` (mV) from t = 0 for `duration` ms, then each of `voltage_levels`
for the matching `duration_levels` (ms) in turn; after the last level the clamp is off
(no current). `series_resistance` is in MOhm (0.01 by default). The clamp acts from t = 0:
SONATA (libsonata) rejects a seclamp input with a delay.
"""

import numpy as np

from .registry import NUMBER, Stimulus, register
from .sources import WaveformPlayer, site_segments
from .waveforms import Waveform


@register("seclamp")
class SEClamp(Stimulus):
    input_types = ("voltage_clamp",)
    required = {"voltage": NUMBER}
    optional = {"series_resistance": NUMBER, "duration_levels": list, "voltage_levels": list}
    defaults = {"series_resistance": 0.01, "duration_levels": [], "voltage_levels": []}
    positive = ("series_resistance",)
    zero_delay = True

    @classmethod
    def check(cls, parameters, input_type):
        durations, voltages = parameters["duration_levels"], parameters["voltage_levels"]
        for name, values in (("duration_levels", durations), ("voltage_levels", voltages)):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                yield f"must be a list of numbers, got {values!r}", name
                return
        if any(d < 0 for d in durations):
            yield f"must not be negative, got {durations}", "duration_levels"
        if len(durations) != len(voltages):
            yield (f"has {len(voltages)} values for {len(durations)} duration_levels",
                   "voltage_levels")

    def levels(self) -> list[tuple[float, float]]:
        """(voltage, duration) of each step of the command, the first one from t = 0."""
        voltages = map(float, self.parameter("voltage_levels"))
        durations = map(float, self.parameter("duration_levels"))
        first = (float(self.parameter("voltage")), self.settings.duration)
        return [first, *zip(voltages, durations)]

    def command(self) -> Waveform:
        """The command voltage, a step waveform (past the last level the clamp is off)."""
        levels = self.levels()
        ends = np.cumsum([duration for _, duration in levels])
        starts = np.concatenate([[0.0], ends[:-1]])
        voltages = np.array([voltage for voltage, _ in levels])
        return Waveform(np.stack([starts, ends], axis=1).ravel(), np.repeat(voltages, 2))

    def attach(self, cell, h, context):
        segments = site_segments(cell, context.sites)
        levels = self.levels()
        if getattr(self, "_player", None) is None:
            self._player = WaveformPlayer(h)
        keep = []
        for segment in segments:
            clamp = h.SEClamp(segment)
            clamp.rs = float(self.parameter("series_resistance"))
            clamp.dur1 = sum(duration for _, duration in levels)
            clamp.amp1 = levels[0][0]
            keep.append(clamp)
            if len(levels) > 1:
                keep += self._player.play(self.command(), clamp._ref_amp1)
        return keep
