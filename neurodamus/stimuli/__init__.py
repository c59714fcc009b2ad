"""Phase 6, stimuli: one small class per SONATA input module, found through a registry."""

from . import (efield, iclamp, linear, noise, ornstein_uhlenbeck, pulse, seclamp,  # noqa: F401
               shot_noise, sinusoidal, synapse_replay, threshold_steps)  # (register modules)
from .manager import StimulusContext, attach_inputs
from .registry import STIMULUS_MODULES, Stimulus, register

__all__ = ["STIMULUS_MODULES", "Stimulus", "StimulusContext", "attach_inputs", "register"]
