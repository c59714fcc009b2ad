"""Phase 6, stimuli: one small class per SONATA input module, found through a registry."""

# Imported for their @register side effect: each module adds its classes to the registry.
from . import (  # noqa: F401
    bmtk_seclamp,
    efield,
    iclamp,
    linear,
    noise,
    ornstein_uhlenbeck,
    pulse,
    seclamp,
    shot_noise,
    sinusoidal,
    synapse_replay,
    threshold_steps,
    xstim,
)
from .manager import StimulusContext, attach_inputs
from .registry import STIMULUS_MODULES, Stimulus, register

__all__ = ["STIMULUS_MODULES", "Stimulus", "StimulusContext", "attach_inputs", "register"]
