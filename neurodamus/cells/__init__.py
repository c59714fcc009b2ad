"""Phase 4, cells: one engine per model family (see engines.py). Biophysical cells are a
morphology plus a hoc template; virtual cells have no NEURON object (they only exist as
spike sources)."""

from .biophysical import BiophysicalCell
from .engines import CellEngine, engine_for

__all__ = ["BiophysicalCell", "CellEngine", "engine_for"]
