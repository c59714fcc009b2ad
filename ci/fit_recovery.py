"""The full recovery fits of `neurodamus fit` (ci/fit-recovery): circuits of
neurodamus/testing/fit_circuits.py with known parameters, their recordings as targets, fits
started 50 % away from the truth.

- two cells, a gap junction and a chemical synapse each way (current pulses, a step): the
  synaptic weight, its decay time, the dendrites' leak, the step's amplitude and the gap
  junction's conductance from both cells' soma voltage; pass: every parameter within 5 %.
- 20 cells (16 E, 4 I) driven by noisy currents: the E->E, E->I and I->E weights from the
  two populations' rates; pass: both rates within 2 % (two rates do not pin three
  weights: their errors are printed, not judged).

Usage: ci/fit_recovery.py WORK_DIR [RANKS] [two|ei|both]. Prints one line per parameter and
rate, and `PASS`/`FAIL` per fit; exits 1 if one fails.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import libsonata
import numpy as np

from neurodamus.testing.fit_circuits import (
    EI_TRUTH,
    TWO_CELL_TRUTH,
    build_ei,
    build_two_cell,
    ei_parameters,
    run_truth,
    two_cell_parameters,
    write_spec,
)

BIN = Path(sys.executable).parent
AWAY = (1.5, 0.5)  # alternately 50 % above and below the truth


def _start(parameters, truth):
    return [dict(p, initial=truth[p["name"]] * AWAY[i % 2]) for i, p in enumerate(parameters)]


def _fit(spec: Path, ranks: int) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "mpiexec"), "-n", str(ranks), sys.executable, "-m", "neurodamus",
                    "fit", str(spec)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def two_cell(work: Path, ranks: int) -> bool:
    directory = work / "two_cell"
    config = build_two_cell(directory)
    truth = run_truth(config, two_cell_parameters(), TWO_CELL_TRUTH, directory)
    spec = write_spec(directory / "fit.json", config,
                      _start(two_cell_parameters(), TWO_CELL_TRUTH),
                      [{"name": "soma", "type": "report", "file": str(truth / "soma_v.h5"),
                        "report": "soma_v"}],
                      {"method": "nelder-mead", "budget": 600}, output_dir=str(directory / "fit"))
    wall = _fit(spec, ranks)
    best = json.loads((directory / "fit" / "best_parameters.json").read_text())
    ok = True
    print(f"two-cell: {ranks} rank(s), {wall:.0f} s, best RMS {best['loss']:.3g} mV")
    for name, value in best["parameters"].items():
        error = value / TWO_CELL_TRUTH[name] - 1
        ok &= abs(error) <= 0.05
        print(f"  {name:8s} truth {TWO_CELL_TRUTH[name]:<8g} start "
              f"{TWO_CELL_TRUTH[name] * AWAY[list(best['parameters']).index(name) % 2]:<8g} "
              f"fitted {value:<10.6g} error {100 * error:+.2f} %")
    print(f"two-cell: {'PASS' if ok else 'FAIL'} (every parameter within 5 %)")
    return ok


def _rates(spikes: Path, cells: dict, tstop: float) -> dict:
    reader = libsonata.SpikeReader(str(spikes))
    return {name: len(np.asarray(reader[name].get())) / (count * tstop / 1000.0)
            for name, count in cells.items()}


def ei(work: Path, ranks: int) -> bool:
    directory = work / "ei"
    tstop = 1000.0
    config = build_ei(directory, tstop=tstop)
    truth = run_truth(config, ei_parameters(), EI_TRUTH, directory)
    cells = {"E": 16, "I": 4}
    target = _rates(truth / "out.h5", cells, tstop)
    spec = write_spec(directory / "fit.json", config, _start(ei_parameters(), EI_TRUTH),
                      [{"name": "rates", "type": "rates", "rates": target}],
                      {"method": "cma", "budget": 96, "population": 8, "sigma": 0.15,
                       "seed": 3},
                      output_dir=str(directory / "fit"))
    wall = _fit(spec, ranks)
    best = json.loads((directory / "fit" / "best_parameters.json").read_text())
    fitted = json.loads((directory / "fit" / "fitted_simulation_config.json").read_text())
    fitted["output"]["output_dir"] = str(directory / "check")
    (directory / "fitted.json").write_text(json.dumps(fitted))
    subprocess.run([sys.executable, "-m", "neurodamus", str(directory / "fitted.json"),
                    "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    rates = _rates(directory / "check" / "out.h5", cells, tstop)  # the fitted config, rerun
    print(f"E/I network: {ranks} rank(s), {wall:.0f} s, best rate error {best['loss']:.3g}")
    ok = True
    for name, rate in target.items():
        error = rates[name] / rate - 1
        ok &= abs(error) <= 0.02
        print(f"  rate {name}: target {rate:.3f} Hz, fitted config gives {rates[name]:.3f} Hz "
              f"({100 * error:+.2f} %)")
    for name, value in best["parameters"].items():
        print(f"  {name}: truth {EI_TRUTH[name]:g}, fitted {value:.4g} "
              f"({100 * (value / EI_TRUTH[name] - 1):+.1f} %)")
    print(f"E/I network: {'PASS' if ok else 'FAIL'} (both rates within 2 %)")
    return ok


if __name__ == "__main__":
    work = Path(sys.argv[1]).resolve()
    ranks = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    which = sys.argv[3] if len(sys.argv) > 3 else "both"
    results = []
    if which in ("two", "both"):
        results.append(two_cell(work, ranks))
    if which in ("ei", "both"):
        results.append(ei(work, ranks))
    sys.exit(0 if all(results) else 1)
