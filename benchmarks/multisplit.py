"""The balance MultiSplit buys: whole-cell round-robin against the large cells cut across
ranks (balance/multisplit.py), on the generated MultiSplit circuit (a few very large cells
among small ones, neurodamus/testing/multisplit_circuit.py).

    python benchmarks/multisplit.py [--ranks 2] [--large 3] [--small 6] [--depth 7]
        [--tstop 200] [--repeats 2] [--work DIR]

Runs each mode under mpiexec, alternating (whole, split, whole, split, ...) since other jobs
share the machine, and prints per mode: each rank's compartments, the imbalance (max/mean
compartments), each rank's wall time in psolve (best of the repeats), and whether the spikes
equal the whole-cell run's (max |dt| in ms).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

VENV_BIN = Path(sys.executable).parent
MPIEXEC = str(VENV_BIN / "mpiexec") if (VENV_BIN / "mpiexec").exists() else "mpiexec"


def run(mode: str, ranks: int, morphologies: Path, out: Path, depth: int, tstop: float) -> dict:
    command = [MPIEXEC, "-n", str(ranks), sys.executable, "-m",
               "neurodamus.testing.multisplit_circuit", mode, str(morphologies), str(out),
               str(depth), str(tstop)]
    env = {**os.environ, "NEURON_MODULE_OPTIONS": "-nogui"}
    subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--small", type=int, default=6)
    parser.add_argument("--depth", type=int, default=7)
    parser.add_argument("--tstop", type=float, default=200.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    from neurodamus.testing.multisplit_circuit import write_circuit

    work = args.work or Path(tempfile.mkdtemp(prefix="multisplit-"))
    morphologies = work / "morphologies"
    if not morphologies.exists():
        write_circuit(morphologies, args.large, args.small, args.depth)
    results: dict[str, list[dict]] = {"whole": [], "split": []}
    for _ in range(args.repeats):
        for mode in ("whole", "split"):
            results[mode].append(run(mode, args.ranks, morphologies, work / f"{mode}.json",
                                     args.depth, args.tstop))
    reference = np.array(results["whole"][0]["spikes"])
    print(f"{args.large} large cells (depth {args.depth}) + {args.small} small, {args.ranks} "
          f"ranks, tstop {args.tstop} ms, {args.repeats} alternating repeats; "
          f"load average {os.getloadavg()[0]:.2f}")
    for mode, runs in results.items():
        counts = np.array([r["compartments"] for r in runs[0]["ranks"]], float)
        walls = np.min([[r["wall"] for r in run_["ranks"]] for run_ in runs], axis=0)
        spikes = np.array(runs[0]["spikes"])
        same = spikes.shape == reference.shape and np.array_equal(spikes[:, 0], reference[:, 0])
        delta = float(np.abs(spikes[:, 1] - reference[:, 1]).max()) if same else float("nan")
        print(f"{mode:>5}: compartments per rank {counts.astype(int).tolist()}, imbalance "
              f"{counts.max() / counts.mean():.3f}; psolve wall per rank (best) "
              f"{[round(float(w), 3) for w in walls]} s; split cells {runs[0]['split_cells']}; "
              f"{len(spikes)} spikes, same as whole-cell: {same} (max |dt| {delta:.2e} ms)")


if __name__ == "__main__":
    main()
