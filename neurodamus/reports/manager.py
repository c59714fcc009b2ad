"""Everything recorded during the run: spikes always, plus the configured frame reports.

Each report is a run hook (see run.RunHook): it is told when the run starts, after every
window of the run, and when the run ends, so that it can flush its buffers to disk and
keep memory bounded whatever the simulated time.
"""

from dataclasses import dataclass, field

from .spikes import SpikeRecorder


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


def setup_reports(settings, circuit, cells, h, parallel, options) -> ReportSet:
    return ReportSet(spikes=SpikeRecorder(h, parallel.pc))
