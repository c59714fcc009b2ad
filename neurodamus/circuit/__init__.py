"""Phase 2, circuit: node populations with global gid offsets, node-set resolution and bulk
attribute reads (one libsonata call per attribute, never per cell)."""

from .nodes import Circuit, NodePopulation, open_circuit

__all__ = ["Circuit", "NodePopulation", "open_circuit"]
