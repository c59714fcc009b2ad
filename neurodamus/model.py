"""The values the build phases hand on: what `balance` decided (Target) and what the phases
from `cells` to `checkpoint` built on this rank (Model). simulation.py passes them to the
run and output phases as arguments, so no phase looks up what an earlier one left on
`Simulation`. Frozen: a later phase may change the NEURON objects a Model holds (the run
does), never which objects it holds.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .checkpoint_control import Checkpoints
    from .circuit import Circuit
    from .connectivity.builder import Connections
    from .reports.manager import ReportSet


@dataclass(frozen=True)
class Target:
    """The `balance` phase's result: this rank's gids and what every rank must agree on."""

    local_gids: np.ndarray  # the gids this rank builds
    count: int  # the target node set's size (all ranks)
    checksum: tuple[int, int]  # (sum, sum of squares) of the target gids: built once each?
    imbalance: float | None  # the load balance's imbalance (run_summary.json)


@dataclass(frozen=True)
class Model:
    """Everything built on this rank, for the run and output phases (and for callers of the
    Simulation API, as `Simulation.model` once built)."""

    circuit: "Circuit"
    target: Target
    cells: list  # one CellRecord per local cell
    cell_engines: dict  # population -> engine name(s), every rank's (log, summary)
    connections: "Connections"  # its keep_alive holds replay and overrides
    synapse_models: dict  # population -> synapse model name (log, summary)
    reports: "ReportSet"  # the spike recorder and the frame report hooks
    checkpoints: "Checkpoints"
    stats: dict | None = None  # --model-stats: counts per population

    @property
    def spike_recorder(self):
        return self.reports.spikes
