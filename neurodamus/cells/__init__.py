"""Phase 4, cells: one engine per model kind. Biophysical cells are a morphology plus a hoc
template; virtual cells have no NEURON object (they only exist as spike sources)."""

from .biophysical import BiophysicalCell, build_biophysical_cells, check_biophysical_cells

__all__ = ["BiophysicalCell", "build_biophysical_cells", "check_biophysical_cells"]
