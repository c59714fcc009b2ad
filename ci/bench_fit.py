"""Evaluations per second of `neurodamus fit` (ci/bench-fit): a CMA-ES fit of the two-cell
circuit (testing/fit_circuits.py, 150 ms of simulated time per candidate), 8 candidates per
generation, BUDGET evaluations, on each given rank count in turn, REPEATS times alternating.

Prints per run: ranks, groups, evaluations, wall seconds (whole command, start-up included),
evaluations per second over the fit loop (run_summary.json), and the mean seconds of one
evaluation as its group timed it (build + run + read + score).

Usage: ci/bench_fit.py WORK_DIR [BUDGET] [REPEATS] [RANKS,...]
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from neurodamus.testing.fit_circuits import (
    TWO_CELL_TRUTH,
    build_two_cell,
    run_truth,
    two_cell_parameters,
    write_spec,
)

BIN = Path(sys.executable).parent


def main(work: Path, budget: int, repeats: int, ranks: list[int]):
    config = build_two_cell(work)
    truth = run_truth(config, two_cell_parameters(), TWO_CELL_TRUTH, work)
    start = [dict(p, initial=TWO_CELL_TRUTH[p["name"]] * 1.3) for p in two_cell_parameters()]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("ranks groups evaluations wall_s evals_per_s mean_eval_s")
    for repeat in range(repeats):
        for count in ranks:
            output = work / f"fit_{count}_{repeat}"
            spec = write_spec(work / "bench.json", config, start,
                              [{"name": "soma", "type": "report",
                                "file": str(truth / "soma_v.h5"), "report": "soma_v"}],
                              {"method": "cma", "budget": budget, "population": 8},
                              output_dir=str(output))
            began = time.perf_counter()
            subprocess.run([str(BIN / "mpiexec"), "-n", str(count), sys.executable, "-m",
                            "neurodamus", "fit", str(spec)], check=True,
                           stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - began
            summary = json.loads((output / "run_summary.json").read_text())
            rows = (output / "history.csv").read_text().splitlines()[1:]
            mean = sum(float(r.split(",")[3]) for r in rows) / len(rows)
            print(f"{count:5d} {summary['groups']:6d} {summary['evaluations']:11d} "
                  f"{wall:6.1f} {summary['evaluations_per_second']:11.2f} {mean:11.3f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 48,
         int(sys.argv[3]) if len(sys.argv) > 3 else 2,
         [int(r) for r in (sys.argv[4] if len(sys.argv) > 4 else "1,2").split(",")])
