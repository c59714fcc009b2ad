"""The interface every cell engine shares: the record each built cell leaves for the later
phases (connections, stimuli, reports, checkpoints), whatever its engine, and how a cell
becomes its rank's owner of its gid.

Engines subclass CellRecord (BiophysicalCell, PointCell) and add what only their cells have
(sections by SONATA section id, the artificial cell); the later phases read only what is
declared here, so a new engine builds records of its own and every phase takes them.
"""

from typing import cast

import numpy as np


class CellRecord:
    """What the later phases keep about every built cell, whatever its engine: identity,
    spike detector, what connects to it and what must stay alive with it, its node
    dynamics and its placement."""

    def __init__(self, gid: int, population: str, node_id: int, hoc_cell):
        self.gid, self.population, self.node_id = gid, population, node_id
        self.hoc = hoc_cell
        self.spike_detector = None
        # connectivity.Synapse records, edge order within each edge population
        self.synapses: list = []
        self.gap_junctions: list = []  # (transfer key, NdGap) of the half-junctions on this cell
        self.modulators: list = []  # neuromodulatory edges attached to its synapses (replay drives)
        self.keep_alive: list = []  # stimuli and other NEURON objects attached to this cell
        # Node dynamics used by relative stimuli (nA, nA, MOhm); NaN when not given. Kept
        # here, not in the template: published templates have no such variables.
        self.threshold_current = float("nan")
        self.holding_current = float("nan")
        self.input_resistance = float("nan")
        # Spontaneous release rates (Hz) of excitatory / inhibitory synapses; NaN: none.
        self.exc_mini_frequency = float("nan")
        self.inh_mini_frequency = float("nan")
        # Placement in the circuit (extracellular stimuli): soma centre (um), orientation.
        self.position = np.zeros(3)
        self.rotation = np.eye(3)

    def place(self, positions: np.ndarray | None, rotations: np.ndarray | None,
              index: int) -> None:
        """Soma centre and orientation from the nodes' bulk arrays ([N, 3], [N, 3, 3]);
        left as they are when the nodes give no position (rotations come with positions)."""
        if positions is not None:
            self.position = positions[index]
            self.rotation = cast(np.ndarray, rotations)[index]


def register_cell(h, pc, cell, rank: int, detector, run_settings):
    """Make `cell` this rank's owner of its gid, spiking through `detector`."""
    pc.set_gid2node(cell.gid, rank)
    detector.threshold = run_settings.spike_threshold
    pc.cell(cell.gid, detector)
    cell.spike_detector = detector
