"""Phase 4, cells: one engine per model family (see engines.py). Biophysical cells are a
morphology plus a hoc template; virtual cells have no NEURON object (they only exist as
spike sources). Every engine's cells are CellRecords (record.py), the one interface the
later phases read."""

from .biophysical import BiophysicalCell
from .engines import CellEngine, engine_for
from .record import CellRecord

__all__ = ["BiophysicalCell", "CellEngine", "CellRecord", "engine_for"]
