"""Phase 1, settings: the simulation and circuit configs, read with libsonata and validated
into one immutable Settings object before any NEURON object exists."""

from .loader import load_settings
from .settings import (
    CircuitSettings,
    Conditions,
    EdgePopulationSettings,
    InputSettings,
    NodePopulationSettings,
    OutputSettings,
    RunSettings,
    Settings,
)

__all__ = ["load_settings", "Settings", "RunSettings", "Conditions", "OutputSettings",
           "InputSettings", "CircuitSettings", "NodePopulationSettings", "EdgePopulationSettings"]
