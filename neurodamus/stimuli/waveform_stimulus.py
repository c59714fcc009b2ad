"""Base of the modules that inject a current, or a conductance, following a waveform."""

from .registry import Stimulus
from .sources import WaveformPlayer, place_conductance, place_current, site_segments


class WaveformStimulus(Stimulus):
    """A subclass says what to inject (`waveform`); this class says where and how: at every
    site, as an electrode or a membrane source (`represents_physical_electrode`), as a
    current in nA or, for input_type conductance, a conductance in uS towards `reversal`.

    A conductance is played, as the reference simulator plays it, as the series resistance
    1/g of its points, joined linearly (sources.place_conductance); a conductance below
    1e-9 uS, negative ones included, counts as 1e-9 uS (1e9 MOhm).
    """

    def waveform(self, cell, context, site_index: int):
        """The Waveform injected at one site of `cell` (site_index counts a cell's sites)."""
        raise NotImplementedError

    def waveforms(self, cell, context, site_count: int) -> list:
        """The Waveforms of all sites of `cell`; none when the input does nothing."""
        return [self.waveform(cell, context, index) for index in range(site_count)]

    def attach(self, cell, h, context):
        segments = site_segments(cell, context.sites)
        waveforms = self.waveforms(cell, context, len(segments))
        player = self._player(h, context)
        physical = bool(self.parameter("represents_physical_electrode"))
        keep = []
        for segment, waveform in zip(segments, waveforms):
            if self.settings.input_type == "conductance":
                reversal = float(self.parameter("reversal") or 0.0)
                keep += place_conductance(player, segment, waveform, reversal, physical)
            else:
                keep += place_current(player, segment, waveform, physical)
        return keep

    def _player(self, h, context) -> WaveformPlayer:
        if getattr(self, "_waveform_player", None) is None:
            self._waveform_player = WaveformPlayer(h, context.tstop, context.dt)
        return self._waveform_player
