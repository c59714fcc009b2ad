"""Phase 7, reports: what is recorded during the run and written as SONATA files."""

from .spikes import SpikeRecorder, read_spikes_by_population, sort_spikes, write_spikes

__all__ = ["SpikeRecorder", "write_spikes", "sort_spikes", "read_spikes_by_population"]
