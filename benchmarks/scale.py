"""`ci/bench --cells N --ranks R [R ...]`: how fast the driver builds and runs a generated
circuit, and how much of the wall time is ours rather than NEURON's solver.

Per rank count it runs `mpiexec -n R neurodamus` on a circuit of N cells (80 % pyramidal,
20 % fast-spiking, about --synapses-per-cell synapses each, our templates) and prints:
per-phase wall time and peak memory, cells and synapses instantiated per second per rank,
the ratio of total wall time to time inside psolve, the speed-up over 1 rank, the
WholeCell imbalance, peak memory per rank with its cells and synapses, the CoreNEURON
solver time and total wall time against NEURON's with peak memory per rank
under each, and the dry-run memory estimate against the real peak.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

TARGETS = {"synapses_per_second_per_rank": 50_000, "cells_per_second_per_rank": 200,
           "overhead_fraction": 0.20, "coreneuron_ratio": 0.5, "speedup_2_ranks": 1.8,
           "imbalance": 1.05, "dry_run_error": 0.25}


def bench_circuit(directory: Path, cells: int, synapses_per_cell: int, tstop: float) -> Path:
    """A circuit of `cells` cells, generated once and reused."""
    config = directory / "simulation_config.json"
    if config.exists():
        return config
    n_exc = int(round(cells * 0.8))
    n_inh = cells - n_exc
    exc_in, inh_in = int(synapses_per_cell * 0.8), synapses_per_cell - int(synapses_per_cell * 0.8)
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", n_exc, "exc"), PopulationSpec("inh", n_inh, "inh")],
        edges=[EdgeSpec("exc", "exc", exc_in, 0.3), EdgeSpec("inh", "exc", inh_in, 0.5),
               EdgeSpec("exc", "inh", exc_in, 0.3), EdgeSpec("inh", "inh", inh_in, 0.5)],
        morphologies_per_kind=8, seed=12)
    started = time.perf_counter()
    circuit = build_circuit(directory, spec)
    inputs = {"drive": {"module": "linear", "input_type": "current_clamp", "node_set": "All",
                        "amp_start": 0.32, "amp_end": 0.38, "delay": 5.0, "duration": tstop,
                        "represents_physical_electrode": True}}
    write_simulation_config(directory, circuit, tstop=tstop, inputs=inputs, node_set="All")
    print(f"generated {cells} cells in {time.perf_counter() - started:.1f} s: {directory}")
    return config


def run(config: Path, ranks: int, output: Path, *extra) -> dict:
    bin_dir = Path(sys.executable).parent
    mpiexec = bin_dir / "mpiexec" if (bin_dir / "mpiexec").exists() else shutil.which("mpiexec")
    command = [str(mpiexec), "-n", str(ranks), sys.executable, "-m", "neurodamus", str(config),
               "--output-path", str(output), "--no-progress", *map(str, extra)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    summary = output / "run_summary.json"
    return json.loads(summary.read_text()) if summary.exists() else {"stdout": result.stdout}


def phase(summary, name) -> float:
    return next((p["wall"] for p in summary["phases"] if p["name"] == name), 0.0)


def report(summary, ranks) -> dict:
    total = summary["wall_time"]
    cells_wall, synapse_wall = phase(summary, "cells"), phase(summary, "synapses")
    figures = {
        "ranks": ranks, "total_s": total, "solver_s": summary["solver_seconds"],
        "cells_per_second_per_rank": summary["cells"] / ranks / max(cells_wall, 1e-9),
        "synapses_per_second_per_rank": summary["synapses"] / ranks / max(synapse_wall, 1e-9),
        "total_over_solver": total / max(summary["solver_seconds"], 1e-9),
        "overhead_fraction": 1 - summary["solver_seconds"] / total,
        "imbalance": summary.get("imbalance"),
    }
    print(f"\n== {ranks} rank(s): {summary['cells']} cells, {summary['synapses']} synapses, "
          f"{summary['spikes']} spikes, {summary['simulator']}, {summary['lb_mode']}")
    print(f"  {'phase':<16}{'wall [s]':>10}{'peak MB (largest rank)':>26}")
    for p in summary["phases"]:
        print(f"  {p['name']:<16}{p['wall']:>10.3f}{p['peak_memory_mb']:>26.1f}")
    print(f"  total {total:.2f} s, inside psolve {summary['solver_seconds']:.2f} s: "
          f"total/solver = {figures['total_over_solver']:.2f}, "
          f"outside the solver {100 * figures['overhead_fraction']:.1f}% "
          f"(target <= {100 * TARGETS['overhead_fraction']:.0f}%)")
    print(f"  cells/s/rank {figures['cells_per_second_per_rank']:.0f} (target >= "
          f"{TARGETS['cells_per_second_per_rank']}), synapses/s/rank "
          f"{figures['synapses_per_second_per_rank']:.0f} (target >= "
          f"{TARGETS['synapses_per_second_per_rank']})")
    if figures["imbalance"] is not None:
        print(f"  WholeCell imbalance {figures['imbalance']:.3f} "
              f"(target <= {TARGETS['imbalance']})")
    for rank, (cells, synapses, memory) in enumerate(zip(
            summary["cells_per_rank"], summary["synapses_per_rank"],
            summary["peak_memory_mb_per_rank"])):
        print(f"  rank {rank}: {cells} cells, {synapses} synapses, peak {memory:.0f} MB")
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ci/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--synapses-per-cell", type=int, default=500)
    parser.add_argument("--tstop", type=float, default=100.0, help="biological ms (default 100)")
    parser.add_argument("--no-coreneuron", action="store_true")
    parser.add_argument("--work-dir", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    directory = args.work_dir / f"c{args.cells}_s{args.synapses_per_cell}_t{args.tstop:g}"
    config = bench_circuit(directory, args.cells, args.synapses_per_cell, args.tstop)
    results = {}
    for ranks in args.ranks:
        summary = run(config, ranks, directory / f"out_{ranks}", "--lb-mode", "WholeCell")
        results[ranks] = report(summary, ranks)
    top = max(args.ranks)
    if 1 in results and len(results) > 1:
        speedup = results[1]["total_s"] / results[top]["total_s"]
        print(f"\n{top} ranks vs 1: {speedup:.2f}x faster in total wall time "
              f"(target >= {TARGETS['speedup_2_ranks']} for 2 ranks)")
    if not args.no_coreneuron:
        core = run(config, top, directory / f"out_core_{top}", "--lb-mode", "WholeCell",
                   "--simulator", "CORENEURON")
        ratio = core["solver_seconds"] / results[top]["solver_s"]
        neuron_summary = json.loads((directory / f"out_{top}" / "run_summary.json").read_text())
        total_ratio = core["wall_time"] / neuron_summary["wall_time"]
        print(f"\nCoreNEURON solver {core['solver_seconds']:.2f} s vs NEURON "
              f"{results[top]['solver_s']:.2f} s on {top} rank(s): ratio {ratio:.2f} "
              f"(target <= {TARGETS['coreneuron_ratio']}); total wall {core['wall_time']:.2f} s "
              f"vs {neuron_summary['wall_time']:.2f} s: ratio {total_ratio:.2f} (target < 1); "
              f"same spike count: {core['spikes'] == neuron_summary['spikes']}")
        for rank, (neuron_mb, core_mb) in enumerate(zip(
                neuron_summary["peak_memory_mb_per_rank"], core["peak_memory_mb_per_rank"])):
            print(f"  rank {rank}: peak {neuron_mb:.0f} MB under NEURON, {core_mb:.0f} MB under "
                  "CoreNEURON (the process: NEURON's model plus CoreNEURON's copy)")
    dry = directory / f"dry_{top}"
    run(config, 1, dry, "--dry-run", "--num-target-ranks", top)
    estimate = json.loads((dry / "dry_run.json").read_text())["max_rank_mb"]
    actual = max(json.loads((directory / f"out_{top}" / "run_summary.json").read_text())[
        "peak_memory_mb_per_rank"])
    print(f"\nDry run for {top} rank(s): largest rank {estimate:.0f} MB estimated, "
          f"{actual:.0f} MB measured: error {100 * (estimate - actual) / actual:+.1f}% "
          f"(target within {100 * TARGETS['dry_run_error']:.0f}%)")


if __name__ == "__main__":
    main()
