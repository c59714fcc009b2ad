"""Base of the modules that inject a current, or a conductance, following a waveform."""

import numpy as np

from .registry import Stimulus
from .sources import WaveformPlayer, place_conductance, place_current, site_segments


class WaveformStimulus(Stimulus):
    """A subclass says what to inject (`waveform`); this class says where and how: at every
    site, as an electrode or a membrane source (`represents_physical_electrode`), as a
    current in nA or, for input_type conductance, a conductance in uS towards `reversal`.

    A negative conductance is not physical (it would drive the cell away from `reversal`):
    conductance waveforms are clipped at 0.
    """

    def waveform(self, cell, context, site_index: int):
        """The Waveform injected at one site of `cell` (site_index counts a cell's sites)."""
        raise NotImplementedError

    def attach(self, cell, h, context):
        segments = site_segments(cell, context.sites)
        waveforms = [self.waveform(cell, context, index) for index in range(len(segments))]
        player = self._player(h)
        physical = bool(self.parameter("represents_physical_electrode"))
        keep = []
        for segment, waveform in zip(segments, waveforms):
            if self.settings.input_type == "conductance":
                conductance = waveform.map(lambda g: np.maximum(g, 0.0))
                reversal = float(self.parameter("reversal") or 0.0)
                keep += place_conductance(player, segment, conductance, reversal, physical)
            else:
                keep += place_current(player, segment, waveform, physical)
        return keep

    def _player(self, h) -> WaveformPlayer:
        if getattr(self, "_waveform_player", None) is None:
            self._waveform_player = WaveformPlayer(h)
        return self._waveform_player
