"""Peak memory of building the model in N cycles (--modelbuilding-steps N) under CoreNEURON.

    python benchmarks/multicycle_memory.py [--cells C] [--synapses S] [--steps 1,2,4]
        [--ranks R] [--work DIR]

Writes a generated circuit (C cells of our excitatory and inhibitory templates, S afferent
synapses each), runs it through the CLI under CoreNEURON in memory (direct mode, the default)
and with --modelbuilding-steps N for each N, and prints per run: the largest rank's peak
resident size when the build was done (before CoreNEURON loads the model: what the cycles
cap; each phase's ru_maxrss in run_summary.json), its peak over the whole run, the wall time,
and whether the spikes equal the first multi-cycle run's bit for bit (and the direct run's
within 1e-9 ms: CoreNEURON's out.dat is text). Memory, not time, is the figure: a loaded
machine changes the walls, not the peaks.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

VENV_BIN = Path(sys.executable).parent


def write_circuit(directory: Path, cells: int, synapses: int) -> Path:
    from neurodamus.testing.circuit_builder import (
        CircuitSpec,
        EdgeSpec,
        PopulationSpec,
        build_circuit,
        write_simulation_config,
    )

    n_inh = max(cells // 5, 1)
    spec = CircuitSpec(populations=[PopulationSpec("exc", cells - n_inh, "exc"),
                                    PopulationSpec("inh", n_inh, "inh")],
                       edges=[EdgeSpec("exc", "exc", synapses, 1.0),
                              EdgeSpec("exc", "inh", synapses, 1.0),
                              EdgeSpec("inh", "exc", max(synapses // 4, 1), 1.0)], seed=7)
    circuit = build_circuit(directory, spec)
    inputs = {"drive": {"module": "noise", "input_type": "current_clamp", "node_set": "All",
                        "delay": 5, "duration": 90, "mean": 0.3, "variance": 0.05}}
    return write_simulation_config(directory, circuit, tstop=100.0, node_set="All",
                                   inputs=inputs, extra={"target_simulator": "CORENEURON"})


def run(config: Path, output: Path, ranks: int, steps: int | None) -> dict:
    command = [str(VENV_BIN / "mpiexec"), "-n", str(ranks), str(VENV_BIN / "neurodamus"),
               str(config), "--output-path", str(output), "--no-progress"]
    if steps is not None:
        command += ["--modelbuilding-steps", str(steps)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=3600)
    return json.loads((output / "run_summary.json").read_text())


def spikes(output: Path) -> dict:
    from neurodamus.reports import read_spikes_by_population

    return read_spikes_by_population(output / "out.h5", ordered=True)


def peaks(summary: dict) -> tuple[float, float]:
    """(the largest rank's peak resident MB when the build phases were done, over the whole
    run): from run_summary.json's phases (each phase's peak so far, ru_maxrss)."""
    phases = summary["phases"]
    first_run = next(i for i, phase in enumerate(phases) if phase["name"] == "run")
    return (max(phase["peak_memory_mb"] for phase in phases[:first_run]),
            max(phase["peak_memory_mb"] for phase in phases))


def same(a: dict, b: dict, tolerance: float = 0.0) -> bool:
    return a.keys() == b.keys() and all(
        np.array_equal(a[p][1], b[p][1]) and a[p][0].shape == b[p][0].shape
        and (np.max(np.abs(a[p][0] - b[p][0]), initial=0.0) <= tolerance) for p in a)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=400)
    parser.add_argument("--synapses", type=int, default=50)
    parser.add_argument("--steps", default="1,2,4")
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="multicycle-"))
    config = write_circuit(work / "circuit", args.cells, args.synapses)
    print(f"{args.cells} cells, {args.synapses} synapses per cell, {args.ranks} rank(s); "
          f"work directory {work}")
    print(f"{'build':>12}{'build peak MB':>15}{'run peak MB':>13}{'wall s':>9}{'spikes':>8}"
          f"  same spikes")
    runs = [("direct", None)] + [(f"{n} cycle(s)", int(n)) for n in args.steps.split(",")]
    first_cycled: dict | None = None
    direct: dict = {}
    for label, steps in runs:
        output = work / f"out_{label.split()[0]}"
        summary = run(config, output, args.ranks, steps)
        got = spikes(output)
        build_peak, run_peak = peaks(summary)
        if steps is None:
            direct, verdict = got, "(reference)"
        else:
            first_cycled = first_cycled or got
            exact = "bit for bit" if same(got, first_cycled) else "DIFFERENT"
            close = "within 1e-9 ms" if same(got, direct, 1e-9) else "NOT"
            verdict = f"{exact} as the first cycled run; {close} of direct"
        print(f"{label:>12}{build_peak:>15.1f}{run_peak:>13.1f}{summary['wall_time']:>9.1f}"
              f"{summary['spikes']:>8}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
