"""Wall time of the driver on published circuits, with the spikes compared to a reference:
`ci/bench-published [--ranks "1 2"] CONFIG [REFERENCE_SPIKES.h5] ...`.

Each run goes to a fresh temporary output directory (the circuit's own outputs, often the
reference, are never touched); mechanisms are built once first so the times are the run's.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np


def read_spikes(path: Path) -> dict:
    """{population: (times, node ids)}, read leniently (references made by other simulators
    store `sorting` as a string, which libsonata's reader refuses)."""
    with h5py.File(path, "r") as f:
        return {name: (np.asarray(group["timestamps"]), np.asarray(group["node_ids"]))
                for name, group in f["spikes"].items() if isinstance(group, h5py.Group)}


def compare(reference: Path, produced: Path) -> str:
    """Per node: equal counts?, the largest time difference after matching in order."""
    ref, ours = read_spikes(reference), read_spikes(produced)
    worst, differing = 0.0, 0
    for population in sorted(set(ref) | set(ours)):
        ref_t, ref_n = ref.get(population, (np.zeros(0), np.zeros(0, int)))
        our_t, our_n = ours.get(population, (np.zeros(0), np.zeros(0, int)))
        for node in np.union1d(ref_n, our_n):
            a, b = np.sort(ref_t[ref_n == node]), np.sort(our_t[our_n == node])
            if a.size != b.size:
                differing += 1
            elif a.size:
                worst = max(worst, float(np.abs(a - b).max()))
    return (f"nodes with other counts: {differing}, max |dt| {worst:.3g} ms"
            if differing else f"per-node counts equal, max |dt| {worst:.3g} ms")


def run_once(config: Path, ranks: int, output: Path) -> tuple[float, str]:
    command = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(ranks), sys.executable,
               "-m", "neurodamus", str(config), "--output-path", str(output), "--no-progress"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{config} on {ranks} rank(s) failed:\n{result.stderr[-2000:]}")
    return wall, result.stdout + result.stderr


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ci/bench-published")
    parser.add_argument("--ranks", default="1 2")
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    runs, paths = [], list(args.paths)
    while paths:
        config = paths.pop(0).resolve()
        reference = paths.pop(0).resolve() if paths and paths[0].suffix == ".h5" else None
        runs.append((config, reference))
    ranks = [int(r) for r in args.ranks.split()]
    print(f"{'config':60} ranks   wall s  cells s    run s  spikes  comparison")
    with tempfile.TemporaryDirectory() as scratch:
        for config, reference in runs:
            run_once(config, 1, Path(scratch) / "warm-up")  # mechanisms, strict copies
            for n in ranks:
                output = Path(scratch) / f"{config.parent.name}_{n}"
                wall, log = run_once(config, n, output)
                phases = dict(re.findall(r"^(cells|run)\s+([\d.]+) s", log, re.MULTILINE))
                spikes = re.search(r"(\d+) spikes", log.splitlines()[-1])
                files = [f for f in output.glob("*.h5") if "spike" in f.name or f.name == "out.h5"]
                verdict = compare(reference, files[0]) if reference and files else ""
                cells_s, run_s = float(phases.get("cells", 0)), float(phases.get("run", 0))
                count = spikes.group(1) if spikes else "?"
                print(f"{str(config)[-60:]:60} {n:5} {wall:8.1f} {cells_s:8.1f} "
                      f"{run_s:8.1f} {count:>7}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
