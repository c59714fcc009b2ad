"""`ci/bench-emodel`: building detailed BBP-style e-model cells, ours against the plain-NEURON
floor.

    ci/bench-emodel [--cells 200] [--morphologies 10] [--synapses-per-cell 100]
        [--tstop 50] [--ranks 2] [--profile-cells 40]

Generates (once, in build/bench-emodel/) a circuit of testing/bbp_style/detailed.py: the
BluePyOpt-shaped template NdTestDetailedEModel on detailed .asc morphologies, each shared by
cells/morphologies cells, recurrent ProbAMPANMDA_EMS-interface synapses, a current clamp
that makes the cells fire. Prints

1. the per-cell build time by step (`benchmarks.emodel_steps`, one process): the template's
   own steps (morphology, nseg, channels, parameters, axon) and ours (re_init_rng, the cell
   record, spike detector and gid), with NEURON's Import3d for every cell (plain) and with
   the driver's (each file read once);
2. ours (`neurodamus` under mpiexec) against a plain NEURON script of the same model
   (`benchmarks.plain_emodel`): cells, synapses, psolve, peak memory per rank, spikes.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from neurodamus.testing.bbp_style import mechanism_dir
from neurodamus.testing.bbp_style.detailed import build_detailed_circuit
from neurodamus.testing.circuit_builder import write_simulation_config


def _circuit(directory: Path, cells: int, morphologies: int, synapses: int,
             tstop: float) -> Path:
    config = directory / "simulation_config.json"
    if not config.exists():
        circuit = build_detailed_circuit(directory / "circuit", n_cells=cells,
                                         n_morphologies=morphologies,
                                         synapses_per_cell=synapses)
        inputs = {"drive": {"module": "linear", "input_type": "current_clamp",
                            "node_set": "All", "amp_start": 0.4, "delay": 5.0,
                            "duration": tstop}}
        write_simulation_config(directory, circuit, tstop=tstop, node_set="All", inputs=inputs)
    return config


def _mpiexec() -> str:
    return str(Path(sys.executable).parent / "mpiexec")


def _json_line(command: list[str]) -> dict:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n"
                         f"{result.stderr[-2000:]}")
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ci/bench-emodel", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--morphologies", type=int, default=10)
    parser.add_argument("--synapses-per-cell", type=int, default=100)
    parser.add_argument("--tstop", type=float, default=50.0)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--profile-cells", type=int, default=40)
    parser.add_argument("--work-dir", type=Path, default=Path("build/bench-emodel"))
    args = parser.parse_args(argv)
    directory = (args.work_dir / f"c{args.cells}_m{args.morphologies}_s"
                 f"{args.synapses_per_cell}_t{args.tstop:g}").resolve()
    config = _circuit(directory, args.cells, args.morphologies, args.synapses_per_cell,
                      args.tstop)

    print(f"== Per-cell build by step, 1 process, {args.profile_cells} cells on "
          f"{args.morphologies} morphologies [ms per cell]")
    profiles = {mode: _json_line([sys.executable, "-m", "benchmarks.emodel_steps",
                                  str(directory / "circuit"), "--cells",
                                  str(args.profile_cells), *flag])
                for mode, flag in (("plain", ["--plain"]), ("cached", []))}
    print(f"  {'step':<24}{'plain Import3d':>16}{'each file once':>16}")
    for step in profiles["plain"]["ms_per_cell"]:
        print(f"  {step:<24}{profiles['plain']['ms_per_cell'][step]:>16.2f}"
              f"{profiles['cached']['ms_per_cell'][step]:>16.2f}")
    plain_total = profiles["plain"]["ms_per_cell_total"]
    cached_total = profiles["cached"]["ms_per_cell_total"]
    print(f"  {'total':<24}{plain_total:>16.2f}{cached_total:>16.2f}   "
          f"(x{plain_total / cached_total:.2f}; files read {profiles['cached']['read']}, "
          f"replayed {profiles['cached']['replayed']})")

    from neurodamus.mechanisms import build_mechanisms, mechanism_sources

    library = build_mechanisms(mechanism_sources([mechanism_dir()]))
    output = directory / f"ours_{args.ranks}"
    subprocess.run([_mpiexec(), "-n", str(args.ranks), sys.executable, "-m", "neurodamus",
                    str(config), "--mechanisms", str(mechanism_dir()), "--output-path",
                    str(output), "--no-progress"], check=True, capture_output=True)
    ours = json.loads((output / "run_summary.json").read_text())
    phases = {p["name"]: p["wall"] for p in ours["phases"]}
    plain = _json_line([_mpiexec(), "-n", str(args.ranks), sys.executable, "-m",
                        "benchmarks.plain_emodel", str(config), "--mechanisms", str(library)])
    print(f"\n== {args.cells} cells, {args.synapses_per_cell} synapses each, {args.tstop:g} ms "
          f"on {args.ranks} ranks: ours against a plain NEURON script")
    print(f"  {'':<28}{'ours':>10}{'plain':>10}{'ours/plain':>12}")
    rows = (("cells [s]", phases["cells"], plain["cells_s"]),
            ("synapses [s]", phases["synapses"], plain["synapses_s"]),
            ("psolve [s]", ours["solver_seconds"], plain["solve_s"]),
            ("peak memory per rank [MB]", max(ours["peak_memory_mb_per_rank"]),
             plain["peak_memory_mb"]))
    for name, mine, theirs in rows:
        print(f"  {name:<28}{mine:>10.2f}{theirs:>10.2f}{mine / max(theirs, 1e-9):>12.2f}")
    print(f"  cells per rank: {args.cells / args.ranks:.0f}; per cell and rank: ours "
          f"{1000 * phases['cells'] / (args.cells / args.ranks):.1f} ms, plain "
          f"{1000 * plain['cells_s'] / (args.cells / args.ranks):.1f} ms")
    print(f"  spikes: ours {ours['spikes']}, plain {plain['spikes']} (the plain script keys "
          "its release streams in its own way)")


if __name__ == "__main__":
    main()
