"""How an edge's `delay` becomes its NetCon delay: each edge convention names its rule.

Each edge convention (builder.EDGE_CONVENTIONS) carries its rule as `delay_rule`. The
reference simulator reads every SONATA/BBP edge delay as a whole number of time steps,
int(delay / dt + 1e-5) x dt (truncated; the 1e-5 absorbs the floating-point noise of
delays written as multiples of dt), so an event arrives at the step it computes and not one
step later. bmtk sets the NetCon delay to the edge's value as written, so its circuits keep
that. The edge file's values are validated as written (validation.edges) before a rule
applies.
"""

import numpy as np

STEP_NOISE = 1e-5  # in steps: the reference's allowance for delays just below k x dt


def whole_steps(delays, dt: float) -> np.ndarray:
    """The reference simulator's delays: truncated to a multiple of dt."""
    delays = np.asarray(delays, float)
    return (delays / dt + STEP_NOISE).astype(np.int32) * dt


def as_written(delays, dt: float) -> np.ndarray:
    """bmtk's delays: the edge file's values."""
    return np.asarray(delays, float)

