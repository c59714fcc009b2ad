"""Our half of ci/bench-dynapse (the project's .venv): the export of a 1000-neuron SONATA network
(read, cores, routes, codes, dynapse.json/.npz, samna_config.json) and T ms on the chip model.

The network (also written as NumPy for Rockpool's half): 800 excitatory and 200 inhibitory
dimensionless LIFs (tau_m 20 ms, tau_syn 5 ms, t_ref 2 ms, threshold 1), 24 recurrent sources
each (E 0.3, I -2.0), 100 Poisson inputs at 10 Hz reaching each neuron with p = 0.1 (0.8).
Prints one line: export seconds, simulation seconds, spikes.
"""

import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np

from neurodamus.export.dynapse.chip_model import run_chip
from neurodamus.export.dynapse.cli import main as export_main
from neurodamus.export.dynapse.testing import (
    Edges,
    PointNetworkSpec,
    PointPopulation,
    write_network,
)
from neurodamus.export.dynapse.writer import read_npz

N_EXC, N_INH, N_INPUTS, K_REC = 800, 200, 100, 24


def network(duration_ms: float, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = N_EXC + N_INH
    rec_source = np.concatenate([rng.choice(np.delete(np.arange(n), t), K_REC, replace=False)
                                 for t in range(n)])
    rec_target = np.repeat(np.arange(n), K_REC)
    inputs = rng.random((N_INPUTS, n)) < 0.1
    in_source, in_target = np.nonzero(inputs)
    spikes = [np.sort(rng.uniform(0, duration_ms, rng.poisson(10 * duration_ms / 1000)))
              for _ in range(N_INPUTS)]
    return rec_source, rec_target, in_source, in_target, spikes


def write(directory: Path, duration_ms: float) -> Path:
    rec_source, rec_target, in_source, in_target, spikes = network(duration_ms)
    lif = {"tau_m": 20.0, "tau_syn": 5.0, "t_ref": 2.0, "threshold": 1.0, "bias": 0.0}
    populations = [PointPopulation("exc", N_EXC, "nest:lif", dynamics_params=lif),
                   PointPopulation("inh", N_INH, "nest:lif", dynamics_params=lif)]
    edges = []
    for source_name, source_range, weight in (("exc", (0, N_EXC), 0.3),
                                              ("inh", (N_EXC, N_EXC + N_INH), -2.0)):
        for target_name, target_range in (("exc", (0, N_EXC)), ("inh", (N_EXC, N_EXC + N_INH))):
            keep = ((rec_source >= source_range[0]) & (rec_source < source_range[1])
                    & (rec_target >= target_range[0]) & (rec_target < target_range[1]))
            edges.append(Edges(source_name, target_name, rec_source[keep] - source_range[0],
                               rec_target[keep] - target_range[0],
                               np.full(keep.sum(), weight)))
    for target_name, target_range in (("exc", (0, N_EXC)), ("inh", (N_EXC, N_EXC + N_INH))):
        keep = (in_target >= target_range[0]) & (in_target < target_range[1])
        edges.append(Edges("stim", target_name, in_source[keep], in_target[keep] - target_range[0],
                           np.full(keep.sum(), 0.8)))
    ids = np.concatenate([np.full(len(s), k) for k, s in enumerate(spikes)])
    times = np.concatenate(spikes)
    spec = PointNetworkSpec(populations, {"stim": N_INPUTS}, edges, {"stim": (ids, times)},
                            tstop=duration_ms)
    np.savez(directory / "network.npz", rec_source=rec_source, rec_target=rec_target,
             in_source=in_source, in_target=in_target, spike_channel=ids, spike_time=times)
    return write_network(directory / "circuit", spec)


def main(directory: Path, duration_ms: float) -> None:
    config_path = directory / "circuit" / "simulation_config.json"
    if not config_path.exists():
        write(directory, duration_ms)
    out = directory / "export"
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = export_main([str(config_path), "-o", str(out)])
    export_s = time.perf_counter() - start
    assert code == 0, code
    config = read_npz(out / "dynapse.npz")
    data = np.load(directory / "network.npz")
    spikes = [data["spike_time"][data["spike_channel"] == k] for k in range(N_INPUTS)]
    # The chip model's input channels are the stim nodes in id order, as the export numbers them.
    # Its first call in a process compiles the kernel (numba), or loads it from numba's cache
    # where an earlier process compiled it: timed apart, on 1 ms.
    start = time.perf_counter()
    run_chip(config, spikes, 1.0)
    first_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    run = run_chip(config, spikes, duration_ms)
    simulate_s, simulate_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"ours: export {export_s:.2f} s, first call (compile or cache load) {first_s:.2f} s, "
          f"chip model {duration_ms:g} ms {simulate_s:.2f} s ({simulate_cpu:.2f} s CPU), "
          f"{run.counts.sum()} spikes", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
