"""Phase 7, reports: what is recorded during the run and written as SONATA files."""

from .manager import ReportSet, setup_reports
from .spikes import SpikeRecorder, read_spikes_by_population, sort_spikes, write_spikes

__all__ = ["ReportSet", "SpikeRecorder", "read_spikes_by_population", "setup_reports",
           "sort_spikes", "write_spikes"]
