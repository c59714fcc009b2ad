"""Base of the noise modules: a signal drawn for each cell from NEURON's Random123 stream
keyed as the reference simulator keys it (random/reference.py), sampled every `dt` ms from
delay to delay + duration (both ends included when duration is a multiple of dt), joined
linearly between samples, 0 outside the window (waveforms.SampledTimes)."""

from typing import ClassVar

from ..random.neuron_random import NeuronRandom
from ..random.reference import StimulusStream
from .waveform_stimulus import WaveformStimulus
from .waveforms import SampledTimes


class SampledNoise(WaveformStimulus):
    STREAM: ClassVar[StimulusStream]  # the reference's keys of the module family's streams

    def samples(self, cell, rng: NeuronRandom, grid: SampledTimes):
        """The signal's values at the grid times, for one cell and site."""
        raise NotImplementedError

    def grid(self) -> SampledTimes:
        if getattr(self, "_grid", None) is None:  # one time array for all cells
            self._grid = SampledTimes.on_grid(self.settings.delay, self.settings.duration,
                                              float(self.parameter("dt")))
        return self._grid

    def stream_ids(self, cell, context) -> tuple[int, int, int]:
        gid = cell.gid if context.reference_gid is None else context.reference_gid
        return self.STREAM.ids(
            context.block_index, context.stimulus_seed, gid, self.parameter("random_seed"))

    def stream(self, cell, context) -> NeuronRandom:
        return NeuronRandom(self.stream_ids(cell, context), context.random_seed)

    def waveforms(self, cell, context, site_count):
        """The reference gives every site of a cell a new stream with the same ids: the
        same signal at each."""
        if not self.draws():
            return []
        grid = self.grid()
        waveform = grid.waveform(self.samples(cell, self.stream(cell, context), grid))
        return [waveform] * site_count

    def waveform(self, cell, context, site_index: int = 0):
        """The Waveform at one site (None when the input does nothing)."""
        waveforms = self.waveforms(cell, context, site_index + 1)
        return waveforms[site_index] if waveforms else None
