"""Ours against the reference simulator on tiled published circuits, in alternating pairs:

    python -m benchmarks.versus_reference V5_SONATA_DIR WORK_DIR --reference-venv VENV
        --reference-mechanisms LIBNRNMECH_SO --mechanisms NEOCORTEX_MOD_DIR
        [--cells 100 200] [--pairs 3] [--ranks 2] [--tstop 50] [--build-only]

For each size, the circuit of `benchmarks.tile_published` is written once (WORK_DIR/c<N>),
then ours and the reference run alternately (ours, theirs, ours, theirs, ...), each on
`--ranks` ranks, from a fresh output folder. Per run: the cells phase, synapses, psolve
(theirs: their timers "Cell creation", "Synapse creation", "finished Run+psolve"; ours: the
phases of run_summary.json), the whole wall time of the mpiexec command, the peak resident
memory of the largest rank (ours: run_summary; theirs: getrusage in benchmarks/reference_run)
and the spikes compared node by node. Prints one line per run, then per size the medians
and ours/theirs, with the load average. `--build-only` runs a copy of the config with tstop
= 0.1 ms (the reference builds a model only to simulate it under NEURON): the cells phase and
the memory of large sizes without their solver time.
The reference's mechanisms are a library built as its CI builds them (the neocortex mod
files and its own, nrnivmodl -incflags -DDISABLE_REPORTINGLIB); ours are the same
neocortex mod files (--mechanisms).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .tile_published import tile

REFERENCE_RUN = Path(__file__).resolve().parent / "reference_run.py"


def _ours(config: Path, out: Path, ranks: int, mechanisms: Path) -> dict:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    command = [str(mpiexec), "-n", str(ranks), sys.executable, "-m", "neurodamus", str(config),
               "--mechanisms", str(mechanisms), "--output-path", str(out), "--no-progress"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=config.parent)
    wall = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"ours failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    summary = json.loads((out / "run_summary.json").read_text())
    phases = {p["name"]: p["wall"] for p in summary["phases"]}
    import libsonata

    reader = libsonata.SpikeReader(str(out / "out.h5"))
    spikes = sorted((int(n), float(t)) for n, t in reader["default"].get())
    return {"cells": phases["cells"], "synapses": phases["synapses"],
            "psolve": summary["solver_seconds"], "wall": wall,
            "memory": max(summary["peak_memory_mb_per_rank"]), "spikes": spikes}


def _theirs(config: Path, out: Path, ranks: int, venv: Path, library: Path) -> dict:
    environment = dict(os.environ, NEURON_INIT_MPI="1", NRNMECH_LIB_PATH=str(library),
                       MPI_LIB_NRN_PATH=str(venv / "lib" / "libmpi.so.12"))
    data = next((venv / "lib").glob("python3*/site-packages/neurodamus/data"))
    environment["HOC_LIBRARY_PATH"] = str(data / "hoc")
    environment.pop("PYTHONPATH", None)
    command = [str(venv / "bin" / "mpiexec"), "-n", str(ranks), str(venv / "bin" / "python"),
               str(REFERENCE_RUN), str(config), str(out)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=config.parent,
                            env=environment)
    wall = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"reference failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    figures = json.loads((out / "reference_figures.json").read_text())
    timers = figures["timers"]
    spikes = []
    for path in sorted(out.glob("spikes_rank*.npz")):
        data = np.load(path)
        spikes += [(int(n), float(t)) for n, t in zip(data["node"], data["t"])]
    return {"cells": max(t["Cell creation"] for t in timers),
            "synapses": max(t["Synapse creation"] for t in timers),
            "psolve": max(t.get("finished Run+psolve", 0.0) for t in timers), "wall": wall,
            "memory": max(figures["maxrss_mb"]), "spikes": sorted(spikes)}


def same_spikes(a: list, b: list) -> str:
    if len(a) != len(b) or [n for n, _ in a] != [n for n, _ in b]:
        return f"DIFFER ({len(a)} vs {len(b)})"
    worst = max((abs(x - y) for (_, x), (_, y) in zip(a, b)), default=0.0)
    return f"same ({len(a)}, max |dt| {worst:.2g} ms)"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="versus_reference",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("v5_sonata", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--reference-venv", type=Path, required=True)
    parser.add_argument("--reference-mechanisms", type=Path, required=True)
    parser.add_argument("--mechanisms", type=Path, required=True)
    parser.add_argument("--cells", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--tstop", type=float, default=50.0)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args(argv)
    keys = ("cells", "synapses", "psolve", "wall", "memory")
    print(f"{'cells':>5} {'run':>9} " + " ".join(f"{k:>9}" for k in keys) + "  load  spikes")
    for cells in args.cells:
        directory = (args.work / f"c{cells}").resolve()
        config = directory / "simulation_config.json"
        if not config.exists():
            tile(args.v5_sonata.resolve(), directory, cells, 100, args.tstop)
        if args.build_only:
            short = json.loads(config.read_text())
            short["run"]["tstop"] = 0.1
            config = directory / "simulation_config_build.json"
            config.write_text(json.dumps(short, indent=2))
        runs: dict[str, list] = {"ours": [], "theirs": []}
        for pair in range(args.pairs):
            for who in ("ours", "theirs"):
                out = directory / f"{who}_{pair}{'_build' if args.build_only else ''}"
                if who == "ours":
                    figures = _ours(config, out, args.ranks, args.mechanisms.resolve())
                else:
                    figures = _theirs(config, out, args.ranks, args.reference_venv.resolve(),
                                      args.reference_mechanisms.resolve())
                runs[who].append(figures)
                load = os.getloadavg()[0]
                spikes = same_spikes(runs["ours"][-1]["spikes"], figures["spikes"])
                print(f"{cells:>5} {who + str(pair):>9} "
                      + " ".join(f"{figures[k]:>9.2f}" for k in keys)
                      + f"  {load:4.1f}  {spikes}", flush=True)
        medians = {who: {k: statistics.median(r[k] for r in rs) for k in keys}
                   for who, rs in runs.items()}
        print(f"{cells:>5} {'ours/thr':>9} " + " ".join(
            f"{medians['ours'][k] / max(medians['theirs'][k], 1e-9):>9.2f}" for k in keys)
            + "  (medians)", flush=True)


if __name__ == "__main__":
    main()
