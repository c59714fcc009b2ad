"""Everything recorded during the run: spikes always, plus the configured frame reports.

Each report is a run hook (see run.RunHook): it is told when the run starts, and when the
run ends; in between it samples its frames and flushes its bounded buffer to disk, so
memory does not grow with simulated time. `finalize` assembles the final files.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NeurodamusError
from .elements import CellElements
from .recorder import FrameReport
from .registry import REPORT_TYPES
from .sampler import coreneuron_cannot_record
from .spikes import SpikeRecorder
from .table import ElementTable

log = logging.getLogger("neurodamus")
MEGABYTE = 1 << 20


@dataclass
class ReportSet:
    spikes: SpikeRecorder
    hooks: list = field(default_factory=list)  # run hooks of the frame reports

    def finalize(self):
        """Complete the frame reports (called on every rank after the run)."""
        for hook in self.hooks:
            finish = getattr(hook, "finalize", None)
            if finish is not None:
                finish()


def _report_cells(report, circuit, cells) -> list:
    """The local cells in the report's `cells` node set (all local cells when it has none)."""
    if report.cells is None:
        return list(cells)
    wanted = set(circuit.target_gids(report.cells).tolist())
    return [cell for cell in cells if cell.gid in wanted]


def cell_elements(report, cells) -> list[CellElements]:
    kind = REPORT_TYPES[report.type]
    found = (kind.cell_elements(cell, report) for cell in cells)
    return [elements for elements in found if elements is not None]


def setup_reports(settings, circuit, cells, h, parallel, options, outputs=None,
                  coreneuron: bool = False) -> ReportSet:
    """Spike recording plus one FrameReport hook per enabled report (every rank). Files are
    written under `outputs` (an outputs.OutputArea: the run's staging directory, so a
    previous run's reports stay until this run completes), else in output.output_dir.
    With `coreneuron` the reports record for CoreNEURON (see sampler.SteppedSampler); a
    value it cannot record is an error, raised once every rank is past the collectives
    here (parallel.agree tells every rank)."""
    reports = getattr(settings, "reports", ())
    if any(v.attribute == "i_membrane_" for r in reports for v in r.variables):
        h.CVode().use_fast_imem(1)  # before any pointer to i_membrane_ is taken
    population_order = list(circuit.populations)
    buffer_bytes = int(options.report_buffer_mb * MEGABYTE)
    hooks = []
    problem = None  # the first report that CoreNEURON cannot record, on this rank
    output_dir = Path(settings.output.output_dir) if outputs is None else outputs.staging
    for report in reports:
        path = output_dir / report.file_name
        if parallel.is_root:
            path.parent.mkdir(parents=True, exist_ok=True)
        kind = REPORT_TYPES[report.type]
        if hasattr(kind, "run_hook"):  # a type that records in its own way (extracellular)
            hooks.append(kind.run_hook(report, _report_cells(report, circuit, cells),
                                       output_dir, h, parallel, buffer_bytes,
                                       coreneuron=coreneuron))
            continue
        elements = cell_elements(report, _report_cells(report, circuit, cells))
        table = ElementTable.from_cells(elements, population_order)
        if parallel.allreduce_sum(table.column_count) == 0 and parallel.is_root:
            log.warning("report '%s' has nothing to record in its cells", report.name)
        if coreneuron and problem is None:
            unrecordable = coreneuron_cannot_record(h, table.refs)
            if unrecordable is not None:
                problem = (f"report '{report.name}': CoreNEURON cannot record "
                           f"{unrecordable}: use --simulator NEURON")
                continue
        hooks.append(FrameReport(report, table, path, h, parallel, buffer_bytes,
                                 coreneuron=coreneuron))
    if problem is not None:
        raise NeurodamusError(problem)
    return ReportSet(spikes=SpikeRecorder(h, parallel.pc), hooks=hooks)
