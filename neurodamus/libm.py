"""The C library's transcendental functions, element by element, for every array whose bits
must not depend on the CPU.

NumPy picks a SIMD implementation of `log`, `exp`, `power`, `sin`, `cos` at import time from
the CPU's features; its AVX-512 `log`, `exp` and `power` differ from the C library's by one
ulp on some arguments (thousands in a million), so a stream computed with them gives other
bits on an AVX-512 machine than on the next one, and other bits than NEURON, which calls the
C library. Python's `math` functions call the C library's (`log`, `exp`, `pow`, `sin`,
`cos`) directly, the same functions NEURON's `Random`, `Vector.sin` and `Vector.pow` call,
so they give NEURON's bits on any x86-64 or ARM machine. They cost ~50 ns per element
(NumPy's ~2 ns): used where the bits matter, on arrays of at most a few million values.
`sqrt`, `+ - * /` are correctly rounded everywhere: NumPy's are fine.
"""

import math
from collections.abc import Callable

import numpy as np


def _elementwise(function: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    def apply(values) -> np.ndarray:
        array = np.asarray(values, dtype=float)
        flat = np.fromiter(map(function, array.ravel().tolist()), float, count=array.size)
        return flat.reshape(array.shape)
    apply.__doc__ = f"The C library's {function.__name__}, element by element."
    return apply


def _log(x: float) -> float:
    """log(0) is -inf and log(negative) nan, as in C (math.log raises)."""
    if x > 0 or x != x:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _c_result(function: Callable[..., float]) -> Callable[..., float]:
    """C's results where `math` raises: inf on overflow, nan on a domain error."""
    def call(*args: float) -> float:
        try:
            return function(*args)
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    call.__name__ = function.__name__
    return call


_log_positive = _elementwise(math.log)
_log_any = _elementwise(_log)


def log(values) -> np.ndarray:
    """The C library's log, element by element (math.log straight when all are positive,
    as the random streams' arguments are: a third faster than through _log)."""
    array = np.asarray(values, dtype=float)
    return _log_positive(array) if bool(np.all(array > 0)) else _log_any(array)
exp = _elementwise(_c_result(math.exp))
sin = _elementwise(_c_result(math.sin))
cos = _elementwise(_c_result(math.cos))


def power(base, exponent: float) -> np.ndarray:
    """The C library's pow(b, exponent) for each b of `base`."""
    exponent = float(exponent)
    pow_ = _c_result(math.pow)
    return _elementwise(lambda b: pow_(b, exponent))(base)
