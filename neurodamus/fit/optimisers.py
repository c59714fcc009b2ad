"""The optimisers, from libraries (`cma`, `scipy.optimize`), on the [0, 1] cube.

Each entry of OPTIMISERS is a function `run(spec, x0, evaluate)` where `evaluate(points)`
scores a batch of points (a collective: every rank calls it with the same points and gets
the same losses), so every rank runs the same deterministic optimiser and takes the same
steps. Seeds are fixed by the spec. CMA-ES hands out a generation at a time (the batch the
rank groups share); the scipy methods ask for one point at a time.

Resuming (outputs.Checkpoint): the optimiser is run again from the start with the same seed,
and the points already evaluated are answered from the checkpoint, so it retraces its path
to where it stopped without simulating.
"""

from collections.abc import Callable

import numpy as np

from ..registry import Registry
from .spec import OptimiserSpec

Evaluate = Callable[[list[np.ndarray]], list[float]]
OPTIMISERS: Registry[str, Callable] = Registry("optimiser", "method")


class BudgetSpent(Exception):
    """The evaluation budget is used up (raised through scipy to end its loop)."""


@OPTIMISERS.register("cma")
def run_cma(spec: OptimiserSpec, x0: np.ndarray, evaluate: Evaluate):
    import cma

    options = {"seed": spec.seed, "bounds": [0.0, 1.0], "maxfevals": spec.budget,
               "verbose": -9, **({"popsize": spec.population} if spec.population else {}),
               **spec.options}
    strategy = cma.CMAEvolutionStrategy(list(x0), spec.sigma, options)
    used = 0
    while not strategy.stop() and used < spec.budget:
        points = strategy.ask()
        points = points[:spec.budget - used]
        losses = evaluate([np.clip(np.asarray(p, float), 0, 1) for p in points])
        used += len(points)
        if len(points) < strategy.popsize:
            break  # a partial generation cannot be told; the budget ends here
        strategy.tell(points, losses)


def _scipy(method: str):
    def run(spec: OptimiserSpec, x0: np.ndarray, evaluate: Evaluate):
        from scipy.optimize import minimize

        used = [0]

        def objective(point):
            if used[0] >= spec.budget:
                raise BudgetSpent
            used[0] += 1
            return evaluate([np.clip(np.asarray(point, float), 0, 1)])[0]

        options = {"maxfev": spec.budget, **spec.options}
        if method == "Nelder-Mead":
            options.setdefault("initial_simplex", _simplex(x0, spec.sigma))
            options.setdefault("xatol", 1e-4)
            options.setdefault("fatol", 0.0)
        try:
            minimize(objective, x0, method=method, bounds=[(0.0, 1.0)] * x0.size,
                     options=options)
        except BudgetSpent:
            pass
    run.__doc__ = f"scipy.optimize.minimize(method='{method}') on the [0, 1] cube."
    return run


def _simplex(x0: np.ndarray, step: float) -> np.ndarray:
    """The first simplex: x0 and a step of `step` along each axis (inwards at a bound)."""
    points = [x0.copy()]
    for axis in range(x0.size):
        point = x0.copy()
        point[axis] += step if x0[axis] + step <= 1 else -step
        points.append(point)
    return np.array(points)


OPTIMISERS.register("nelder-mead", _scipy("Nelder-Mead"))
OPTIMISERS.register("powell", _scipy("Powell"))
