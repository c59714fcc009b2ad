"""Base of the noise modules: a signal drawn for each cell and site from its own random
stream (random_streams.py), sampled every `dt` from delay and held between samples."""

from .random_streams import stimulus_stream
from .waveform_stimulus import WaveformStimulus
from .waveforms import SampleGrid


class SampledNoise(WaveformStimulus):
    def samples(self, cell, rng, grid: SampleGrid):
        """The signal's values at the grid times, for one cell and site."""
        raise NotImplementedError

    def grid(self) -> SampleGrid:
        delay = self.settings.delay
        return SampleGrid(delay, delay + self.settings.duration, float(self.parameter("dt")))

    def stream(self, cell, context, site_index: int):
        return stimulus_stream(context.stimulus_seed, cell.gid, context.input_index, site_index,
                               random_seed=self.parameter("random_seed"))

    def waveform(self, cell, context, site_index):
        if getattr(self, "_held_times", None) is None:  # one time array for all cells
            self._grid = self.grid()
            self._held_times = self._grid.held_times()
        values = self.samples(cell, self.stream(cell, context, site_index), self._grid)
        return self._grid.held(values, self._held_times)
