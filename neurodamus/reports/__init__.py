"""Phase 7, reports: what is recorded during the run and written as SONATA files."""

from . import (  # noqa: F401  (register types)
    compartment,
    compartment_set,
    extracellular,
    lfp,
    summation,
    synapse,
)
from .manager import ReportSet, setup_reports
from .registry import REPORT_TYPES
from .spikes import (
    SpikeRecorder,
    read_spikes_by_population,
    sort_spikes,
    write_spikes,
    write_spikes_csv,
)

__all__ = ["REPORT_TYPES", "ReportSet", "SpikeRecorder", "read_spikes_by_population",
           "setup_reports", "sort_spikes", "write_spikes", "write_spikes_csv"]
