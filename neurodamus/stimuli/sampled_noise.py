"""Base of the noise modules: a signal drawn for each cell from NEURON's Random123 stream
keyed as the reference simulator keys it (random_streams.py), sampled every `dt` ms from
delay to delay + duration (both ends included when duration is a multiple of dt), joined
linearly between samples, 0 outside the window (waveforms.SampledTimes)."""

from .random_streams import NeuronRandom
from .waveform_stimulus import WaveformStimulus
from .waveforms import SampledTimes


class SampledNoise(WaveformStimulus):
    # The reference's three ids are (block + FIRST_ID, stimulus_seed + SEED_OFFSET, third),
    # the third the gid + GID_OFFSET, or the input's random_seed (all cells then draw the
    # same numbers). Subclasses set them.
    FIRST_ID = 0
    SEED_OFFSET = 0
    GID_OFFSET = 0

    def samples(self, cell, rng: NeuronRandom, grid: SampledTimes):
        """The signal's values at the grid times, for one cell and site."""
        raise NotImplementedError

    def grid(self) -> SampledTimes:
        if getattr(self, "_grid", None) is None:  # one time array for all cells
            self._grid = SampledTimes.on_grid(self.settings.delay, self.settings.duration,
                                              float(self.parameter("dt")))
        return self._grid

    def stream_ids(self, cell, context) -> tuple[int, int, int]:
        seed = self.parameter("random_seed")
        gid = cell.gid if context.reference_gid is None else context.reference_gid
        third = int(seed) if seed is not None else gid + self.GID_OFFSET
        return (context.block_index + self.FIRST_ID, context.stimulus_seed + self.SEED_OFFSET,
                third)

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
