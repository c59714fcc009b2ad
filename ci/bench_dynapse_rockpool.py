"""Rockpool's half of ci/bench-dynapse (a venv with rockpool 3.1 and jax): the same network as
ci/bench_dynapse_ours.py (read from its network.npz) through Rockpool's route, timed: a LIF
network (LinearJax inputs, recurrent LIFJax) -> mapper -> dynapsim_net_from_spec, then T ms of
DynapSim at its default 1 ms step and at 10 µs. Prints one line per run.
"""

import sys
import time
from pathlib import Path

import numpy as np
from rockpool.devices.dynapse import DynapSim, dynapsim_net_from_spec, mapper  # noqa: F401
from rockpool.nn.combinators import Sequential
from rockpool.nn.modules import LIFJax, LinearJax

N_EXC, N_INH, N_INPUTS = 800, 200, 100


def main(directory: Path, duration_ms: float) -> None:
    data = np.load(directory / "network.npz")
    n = N_EXC + N_INH
    w_rec = np.zeros((n, n))
    w_rec[data["rec_source"], data["rec_target"]] = np.where(data["rec_source"] < N_EXC, 0.3,
                                                             -2.0)
    w_in = np.zeros((N_INPUTS, n))
    w_in[data["in_source"], data["in_target"]] = 0.8
    start = time.perf_counter()
    net = Sequential(LinearJax((N_INPUTS, n), weight=w_in, has_bias=False),
                     LIFJax((n, n), tau_mem=np.full(n, 0.02), tau_syn=np.full(n, 0.005),
                            threshold=np.ones(n), bias=np.zeros(n), has_rec=True,
                            w_rec=w_rec))
    spec = mapper(net.as_graph())
    export_s = time.perf_counter() - start
    for dt_s in (1e-3, 1e-5):
        steps = int(round(duration_ms * 1e-3 / dt_s))
        raster = np.zeros((steps, N_INPUTS), dtype=np.float32)
        bins = np.floor(data["spike_time"] * 1e-3 / dt_s).astype(int)
        keep = bins < steps
        np.add.at(raster, (bins[keep], data["spike_channel"][keep]), 1.0)
        start = time.perf_counter()
        simulator = dynapsim_net_from_spec(**spec, dt=dt_s)
        output, _, _ = simulator(raster, record=False)
        spikes = int(np.asarray(output).sum())
        simulate_s = time.perf_counter() - start
        print(f"rockpool: mapper {export_s:.2f} s, DynapSim at {dt_s * 1e6:g} µs "
              f"{duration_ms:g} ms {simulate_s:.2f} s (build and JIT included), {spikes} spikes",
              flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
