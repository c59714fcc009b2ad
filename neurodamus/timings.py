"""Per-phase wall time and peak memory, and the table printed at the end of a run."""

import logging
import resource
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger("neurodamus")


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class PhaseTimings:
    phases: list[tuple[str, float, float]] = field(default_factory=list)  # name, wall s, peak MB

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        yield
        wall = time.perf_counter() - start
        self.phases.append((name, wall, peak_memory_mb()))

    def total(self) -> float:
        return sum(wall for _, wall, _ in self.phases)

    def table(self, peak_by_phase_all_ranks: list[list[float]], walls_max: list[float]) -> str:
        """Table of phases: wall time of the slowest rank, peak memory of the largest rank."""
        lines = [f"{'phase':<14}{'wall [s]':>10}{'peak memory, largest rank [MB]':>34}"]
        for i, (name, _, _) in enumerate(self.phases):
            peak = max(ranks[i] for ranks in peak_by_phase_all_ranks)
            lines.append(f"{name:<14}{walls_max[i]:>10.3f}{peak:>34.1f}")
        lines.append(f"{'total':<14}{sum(walls_max):>10.3f}")
        return "\n".join(lines)
