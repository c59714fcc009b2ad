"""bmtk's protocol (BioNet 1.2): one legacy NumPy generator per compartmental cell, seeded
once with the cell's bmtk gid (its node id plus the sizes of the node populations before it,
dialects/bmtk_placement.bmtk_gid_offsets), from which bmtk draws the cell's run-time synapse
placements. The legacy generator's streams are fixed by NumPy's compatibility policy, so
they are the same on every NumPy version and CPU."""

import numpy as np


def placement_stream(bmtk_gid: int) -> np.random.RandomState:
    """The generator of one cell's synapse placements, as bmtk seeds it."""
    return np.random.RandomState(bmtk_gid)
