"""Streams that claim NEURON's numbers give NEURON's bits on every CPU.

NumPy's AVX-512 `log`, `exp` and `power` differ from the C library's by one ulp on a few
arguments in a thousand; NEURON calls the C library. Three checks, so that a regression is
caught on any machine CI runs on, not only on one with AVX-512:
- a scan of the modules that claim NEURON's (or CPU-independent) bits for NumPy's
  transcendental functions and array powers (caught everywhere);
- libm's functions against NEURON's own Vector.log / pow / sin, bit for bit, on arguments
  where NumPy's SIMD paths are known to differ (caught on AVX-512 machines);
- the noise streams hashed in this process and in one with NumPy's AVX-512 paths off.
"""

import ast
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neurodamus
from neurodamus import libm

PACKAGE = Path(neurodamus.__file__).parent
CLAIMING_NEURON_BITS = [  # every module whose numbers must not depend on the CPU
    *sorted((PACKAGE / "random").glob("*.py")), PACKAGE / "libm.py",
    *(PACKAGE / "stimuli" / name for name in (
        "random_signals.py", "sampled_noise.py", "noise.py", "shot_noise.py",
        "ornstein_uhlenbeck.py", "sinusoidal.py", "efield.py")),
    PACKAGE / "connectivity" / "weight_functions.py", PACKAGE / "cells" / "biophysical.py",
]
SIMD_TRANSCENDENTALS = {"log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "power",
                        "float_power", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
                        "arctan2", "sinh", "cosh", "tanh", "cbrt", "hypot"}
AVX512_OFF = "AVX512_SPR AVX512_ICL X86_V4"


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Attribute) and node.attr in SIMD_TRANSCENDENTALS
                and isinstance(node.value, ast.Name) and node.value.id == "np"):
            found.append(f"{path.name}:{node.lineno} np.{node.attr}")
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
                and not (isinstance(node.right, ast.Constant) and type(node.right.value) is int)):
            found.append(f"{path.name}:{node.lineno} ** (use math.pow or libm.power)")
    return found


def test_no_numpy_transcendentals_where_bits_must_match_neuron():
    assert [p for p in CLAIMING_NEURON_BITS if not p.exists()] == []
    assert [v for path in CLAIMING_NEURON_BITS for v in _violations(path)] == []


def _hard_arguments():
    """Arguments on which NumPy's AVX-512 log / pow differ from glibc's (found on a
    Sapphire Rapids CPU), and a spread of others."""
    rng = np.random.default_rng(11)
    return np.concatenate([rng.random(20000) + 1e-12, rng.random(2000) * 1e-300,
                           [0.5, 1.0, 2.0, 1e-310, 0.9999999999999999]])


def test_libm_is_neurons_arithmetic():
    from neuron import h
    x = _hard_arguments()
    for method, ours, args in [("log", libm.log, ()), ("pow", lambda v: libm.power(v, 0.37),
                                                       (0.37,))]:
        theirs = h.Vector(x)
        getattr(theirs, method)(*args)
        assert np.array_equal(theirs.as_numpy(), ours(x)), method
    theirs = h.Vector(4001)
    theirs.sin(7.0, 0.25, 0.025)  # Vector.sin(freq Hz, phase rad, dt ms)
    step = 2 * math.pi / 1000 * 7.0 * 0.025  # its order of operations
    assert np.array_equal(theirs.as_numpy(), libm.sin(step * np.arange(4001) + 0.25))


def test_libm_gives_c_results_where_math_raises():
    got = libm.log([0.0, -1.0, math.inf])
    assert got[0] == -math.inf and math.isnan(got[1]) and got[2] == math.inf
    assert libm.exp(np.array([1000.0]))[0] == math.inf and libm.exp(np.zeros((2, 3))).shape == (2, 3)
    assert math.isnan(libm.power([-2.0], 0.5)[0])


STREAMS_DIGEST = """
import hashlib, numpy as np
from neurodamus.config.settings import InputSettings
from neurodamus.random.neuron_random import NeuronRandom
from neurodamus.stimuli import STIMULUS_MODULES, StimulusContext
class Node:
    gid, node_id, population, threshold_current = 17, 17, "cortex", 0.3
digest = hashlib.sha256()
r = NeuronRandom((5, 6, 7), 3)
for draws in (r.draw(30000), [r.negexp(2.0)], r.draw(30000)):
    digest.update(np.asarray(draws).tobytes())
context = StimulusContext(stimulus_seed=4, dt=0.025, tstop=500.0, random_seed=9)
for module, parameters in [
        ("noise", {"mean": 0.1, "variance": 0.01}),
        ("shot_noise", {"rise_time": 0.4, "decay_time": 4.0, "rate": 2000.0,
                        "amp_mean": 0.05, "amp_var": 0.01}),
        ("ornstein_uhlenbeck", {"tau": 3.0, "mean": 0.1, "sigma": 0.02}),
        ("sinusoidal", {"amp_start": 0.2, "frequency": 13.0})]:
    settings = InputSettings(name="drive", module=module, input_type="current_clamp",
                             node_set="All", delay=5.0, duration=400.0, parameters=parameters)
    waveform = STIMULUS_MODULES[module](settings).waveforms(Node(), context, 1)[0]
    digest.update(waveform.times.tobytes() + waveform.values.tobytes())
print(digest.hexdigest())
"""


def _streams_digest(disabled: str | None) -> str:
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = disabled
    done = subprocess.run([sys.executable, "-c", STREAMS_DIGEST], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.split()[-1]


def _dispatched(features: str) -> str:
    """Those of `features` this CPU has (NumPy refuses to disable absent ones)."""
    import importlib  # numpy._core._multiarray_umath lists the CPU features NumPy uses
    umath = importlib.import_module("numpy._core._multiarray_umath")
    available = getattr(umath, "__cpu_features__", {})
    return " ".join(f for f in features.split() if available.get(f))


def test_noise_streams_do_not_depend_on_numpys_simd_paths():
    disabled = _dispatched(AVX512_OFF)
    if not disabled:
        pytest.skip("this CPU has none of NumPy's AVX-512 paths")
    assert _streams_digest(None) == _streams_digest(disabled)

