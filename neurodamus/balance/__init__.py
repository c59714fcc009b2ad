"""Phase 3, balance: which rank owns which cell. A pure function of the cells and the rank count."""

from .round_robin import round_robin

__all__ = ["round_robin"]
