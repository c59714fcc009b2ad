"""Phase 6, stimuli: one small class per SONATA input module, found through a registry."""

from . import linear  # noqa: F401  (registers the module)
from . import synapse_replay  # noqa: F401
from .manager import StimulusContext, attach_inputs
from .registry import STIMULUS_MODULES, Stimulus, register

__all__ = ["STIMULUS_MODULES", "Stimulus", "StimulusContext", "attach_inputs", "register"]
