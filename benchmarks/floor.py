"""`ci/bench`, last part: the driver against the plain-NEURON floor.

Runs `mpiexec -n R python -m benchmarks.plain_neuron` on the circuit that
`benchmarks.scale` generated and ran (same arguments, R = the largest rank count)
and prints our build (cells + synapses phases) and solve (time inside psolve) over the plain
script's, with both spike counts. Takes the driver's figures from its run_summary.json.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from .scale import bench_circuit, phase, run


def plain(config: Path, ranks: int, output: Path, *extra) -> dict:
    bin_dir = Path(sys.executable).parent
    mpiexec = bin_dir / "mpiexec" if (bin_dir / "mpiexec").exists() else shutil.which("mpiexec")
    command = [str(mpiexec), "-n", str(ranks), sys.executable, "-m",
               "benchmarks.plain_neuron", str(config), "--json", str(output),
               *map(str, extra)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"plain NEURON run failed:\n{result.stdout[-3000:]}\n"
                         f"{result.stderr[-3000:]}")
    return json.loads(output.read_text())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ci/bench (floor)", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--synapses-per-cell", type=int, default=500)
    parser.add_argument("--tstop", type=float, default=100.0)
    parser.add_argument("--no-coreneuron", action="store_true")  # scale's; ignored here
    parser.add_argument("--work-dir", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    directory = args.work_dir / f"c{args.cells}_s{args.synapses_per_cell}_t{args.tstop:g}"
    config = bench_circuit(directory, args.cells, args.synapses_per_cell, args.tstop)
    ranks = max(args.ranks)
    summary_path = directory / f"out_{ranks}" / "run_summary.json"
    if summary_path.exists():
        ours = json.loads(summary_path.read_text())
    else:
        ours = run(config, ranks, directory / f"out_{ranks}", "--lb-mode", "WholeCell")
    floor = plain(config, ranks, directory / f"plain_{ranks}.json")
    our_build = phase(ours, "cells") + phase(ours, "synapses")
    print(f"\n== Plain NEURON floor on {ranks} rank(s) (benchmarks/plain_neuron.py: "
          f"h5py, same templates, morphologies, NdTmExc/NdTmInh, NetCons, clamps; round-robin)")
    print(f"  {'':<22}{'ours [s]':>10}{'plain [s]':>11}{'ours/plain':>12}")
    rows = (("cells", phase(ours, "cells"), floor["cells_s"]),
            ("synapses", phase(ours, "synapses"), floor["synapses_s"]),
            ("build (cells+syn)", our_build, floor["build_s"]),
            ("solve (psolve)", ours["solver_seconds"], floor["solve_s"]))
    for name, mine, theirs in rows:
        print(f"  {name:<22}{mine:>10.2f}{theirs:>11.2f}{mine / max(theirs, 1e-9):>12.2f}")
    print(f"  total wall {ours['wall_time']:.2f} s (ours, every phase) vs "
          f"{floor['read_s'] + floor['build_s'] + floor['solve_s']:.2f} s (plain: read, build, "
          f"solve)")
    same = ours["spikes"] == floor["spikes"]
    difference = abs(ours["spikes"] - floor["spikes"]) / max(ours["spikes"], 1)
    print(f"  spikes: ours {ours['spikes']}, plain {floor['spikes']} "
          + ("(equal)" if same else f"(differ by {100 * difference:.1f}%: the plain script "
             "keys its streams and places its clamps as described in its docstring, not "
             "bit-identically)"))
    print(f"  synapses: ours {ours['synapses']}, plain {floor['synapses']}; cells: ours "
          f"{ours['cells']}, plain {floor['cells']}")


if __name__ == "__main__":
    main()
