"""ci/bench-dynapse-kernel: the chip model before and after it was compiled, on the 1000-neuron
network of ci/bench-dynapse (800 E / 200 I LIFs, 24 recurrent sources each, 100 Poisson inputs
at 10 Hz), T ms, alternating (NumPy, compiled, NumPy, compiled, ...), wall and CPU time of each.
The NumPy model is tests/dynapse_numpy_model.py (the chip model as it was on main before the
kernel); the compiled kernel's first call (compile, or load from numba's cache) is timed apart.
Checks that both give the same spikes: every neuron's count, the order of all spikes, and the
largest difference of a spike time.
"""

import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bench_dynapse_ours import N_INPUTS, write  # noqa: E402
from dynapse_numpy_model import run_chip as run_numpy  # noqa: E402

from neurodamus.export.dynapse.chip_model import run_chip  # noqa: E402
from neurodamus.export.dynapse.cli import main as export_main  # noqa: E402
from neurodamus.export.dynapse.writer import read_npz  # noqa: E402


def in_order(spike_times):
    neuron = np.concatenate([np.full(len(t), k) for k, t in enumerate(spike_times)])
    time_ = np.concatenate(list(spike_times))
    order = np.lexsort((neuron, time_))
    return neuron[order], time_[order]


def main(directory: Path, duration_ms: float, repeats: int) -> None:
    write(directory, duration_ms)
    with contextlib.redirect_stdout(io.StringIO()):
        assert export_main([str(directory / "circuit" / "simulation_config.json"), "-o",
                            str(directory / "export")]) == 0
    config = read_npz(directory / "export" / "dynapse.npz")
    data = np.load(directory / "network.npz")
    spikes = [data["spike_time"][data["spike_channel"] == k] for k in range(N_INPUTS)]
    start = time.perf_counter()
    run_chip(config, spikes, 1.0)
    print(f"compiled: first call (compile or cache load) {time.perf_counter() - start:.2f} s",
          flush=True)
    runs = {}
    for _ in range(repeats):
        for name, model in (("numpy", run_numpy), ("compiled", run_chip)):
            start, cpu = time.perf_counter(), time.process_time()
            runs[name] = model(config, spikes, duration_ms)
            print(f"{name}: {duration_ms:g} ms in {time.perf_counter() - start:.2f} s wall, "
                  f"{time.process_time() - cpu:.2f} s CPU, {runs[name].counts.sum()} spikes",
                  flush=True)
    ours, reference = runs["compiled"], runs["numpy"]
    same_counts = bool((ours.counts == reference.counts).all())
    print(f"same count on every neuron: {same_counts}")
    if same_counts:
        neuron, time_ = in_order(ours.spike_times)
        neuron_ref, time_ref = in_order(reference.spike_times)
        print(f"same order of all {len(neuron)} spikes: {bool((neuron == neuron_ref).all())}, "
              f"largest time difference {np.abs(time_ - time_ref).max():.3g} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
