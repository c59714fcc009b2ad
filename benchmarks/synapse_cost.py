"""`ci/bench-synapses`: what a synapse mechanism costs in psolve, per synapse and time step,
for ours (NdTmExc / NdTmInh) against NEURON's ExpSyn and against mechanisms of the BBP
synapse interface, under NEURON and under CoreNEURON.

    python -m benchmarks.synapse_cost [--cells 200] [--synapses-per-cell 200]
        [--tstop 50] [--real-bbp DIR] [--ours LABEL=DIR ...] [--minis-rate HZ]
        [--simulators neuron coreneuron] [--rounds 2] [--repeats 2] [--json OUT]

The network is a plain NEURON script (no driver): --cells cells (an hh soma and a passive
dendrite, each driven by its own current clamp; 20 % inhibitory), each receiving
--synapses-per-cell synapses from random presynaptic cells, one NetCon each. The synapses
are, per run, one of:
- cells only: no synapses (the floor subtracted from every other run);
- ExpSyn: NEURON's single exponential (the cheapest conductance synapse);
- ours: NdTmExc / NdTmInh built from mod/ (or from each folder given with --ours LABEL=DIR,
  e.g. another version of the mod files), stochastic release;
- BBP interface: NdBenchBbpExc / NdBenchBbpInh (benchmarks/mod/), our own
  mechanisms with the interface and the kind of computation of BBP's ProbAMPANMDA_EMS /
  ProbGABAAB_EMS (see their headers);
- real BBP: ProbAMPANMDA_EMS / ProbGABAAB_EMS, when --real-bbp names a folder with BBP's mod
  files (the whole folder is built: its files depend on each other).
Every run has the same cells, connections, delays, weights and release parameters. With
--minis-rate, every synapse also has spontaneous releases (inside ours; a NetStim and a
NetCon per synapse for the others, as the driver gives mechanisms without them inside).

Each run is its own process (one mechanism library each, and a fresh CoreNEURON). Timing, in
process CPU time (less disturbed than wall time by other load on the machine): after
finitialize, psolve over a short window (tstop / 5) then a long one (tstop), --repeats times;
the cost of a step is the difference of the fastest long and fastest short windows over the
difference of their step counts (so the per-psolve cost, large for CoreNEURON's model
transfer, cancels). Every mechanism runs --rounds times, interleaved, and its fastest run
counts. The cost per synapse and step is a run's less that of the cells alone, over the
synapse count. One rank, one thread: a figure, not a test; the table also gives each
mechanism's cost over the BBP interface's.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
BENCH_MOD = HERE / "mod"
INHIBITORY_FRACTION = 0.2
SIMULATORS = ("neuron", "coreneuron")
# kind -> (excitatory, inhibitory) point process names
MECHANISMS = {"expsyn": ("ExpSyn", "ExpSyn"), "ours": ("NdTmExc", "NdTmInh"),
              "bbp-interface": ("NdBenchBbpExc", "NdBenchBbpInh"),
              "real-bbp": ("ProbAMPANMDA_EMS", "ProbGABAAB_EMS")}


# -- the network (worker side) -------------------------------------------------------------

def network_parameters(cells: int, synapses_per_cell: int, seed: int) -> dict[str, np.ndarray]:
    """Connections and release parameters, the same for every kind of synapse."""
    rng = np.random.default_rng(seed)
    n = cells * synapses_per_cell
    inhibitory_cells = rng.random(cells) < INHIBITORY_FRACTION
    source = rng.integers(0, cells, n)
    inhibitory = inhibitory_cells[source]
    return {
        "inhibitory_cells": inhibitory_cells,
        "drive": rng.uniform(0.12, 0.3, cells),  # nA, each cell's current clamp
        "source": source, "target": np.repeat(np.arange(cells), synapses_per_cell),
        "inhibitory": inhibitory,
        "segment": rng.random(n),  # position: soma below 0.1, else the dendrite at (x-0.1)/0.9
        "delay": rng.uniform(1.0, 4.0, n),
        "weight": np.where(inhibitory, 0.6, 0.25) * rng.uniform(0.5, 1.5, n),  # nS
        "decay": np.where(inhibitory, rng.uniform(6.0, 10.0, n), rng.uniform(1.5, 2.0, n)),
        "use": np.where(inhibitory, rng.uniform(0.2, 0.3, n), rng.uniform(0.3, 0.6, n)),
        "dep": np.where(inhibitory, rng.uniform(600, 800, n), rng.uniform(500, 800, n)),
        "fac": np.where(inhibitory, 0.0, rng.uniform(10, 30, n)),
        "nrrp": rng.integers(1, 4, n).astype(float),
    }


def _cell(h, gid: int):
    soma = h.Section(name=f"soma_{gid}")
    soma.L = soma.diam = 20.0
    soma.insert("hh")
    dend = h.Section(name=f"dend_{gid}")
    dend.L, dend.diam, dend.nseg = 300.0, 1.0, 9
    dend.insert("pas")
    for segment in dend:
        segment.pas.g, segment.pas.e = 1e-4, -65.0
    dend.connect(soma(1))
    return soma, dend


def _minis(h, kind: str, synapse, weight: float, rate: float, k: int, gid: int) -> list:
    """Spontaneous releases at `rate` Hz: inside ours; for the others, as the driver gives
    mechanisms without them inside, a Poisson source per synapse (NEURON's NetStim on a
    Random123 stream here) and a NetCon of spontaneous type (weight[4] = 1 for BBP's)."""
    ids = (2000 + gid, k, 9)
    if kind == "ours":
        synapse.minis_rate, synapse.minis_weight = rate, weight
        synapse.minis_rng.set_ids(*ids)
        synapse.minis_rng.set_seq(0)
        return []
    source = h.NetStim()
    source.start, source.interval, source.number, source.noise = 0.0, 1000.0 / rate, 1e9, 1
    source.noiseFromRandom123(*ids)
    netcon = h.NetCon(source, synapse)
    netcon.delay, netcon.weight[0] = 0.1, weight
    if kind != "expsyn":
        netcon.weight[4] = 1
    return [source, netcon]


def _synapse(h, kind: str, location, p: dict, k: int, gid: int):
    """One synapse of `kind` with the k-th edge's parameters; returns it and its weight."""
    inhibitory = bool(p["inhibitory"][k])
    name = MECHANISMS[kind][int(inhibitory)]
    synapse = getattr(h, name)(location)
    weight = float(p["weight"][k])
    decay = float(p["decay"][k])
    if kind == "expsyn":
        synapse.tau, synapse.e = decay, (-80.0 if inhibitory else 0.0)
        return synapse, weight * 0.001  # ExpSyn's weight is in uS
    if inhibitory:
        synapse.tau_d_GABAA = decay
    else:
        synapse.tau_d_AMPA = decay
    synapse.Use, synapse.Dep, synapse.Fac = p["use"][k], p["dep"][k], p["fac"][k]
    synapse.Nrrp = p["nrrp"][k]
    ids = (1000 + gid, k, 7)
    if kind == "ours":
        synapse.release_rng.set_ids(*ids)
        synapse.release_rng.set_seq(0)
    elif kind == "bbp-interface":
        synapse.rng.set_ids(*ids)
    else:  # the BBP mechanism: setRNG with three numbers is a Random123 stream
        synapse.setRNG(*ids)
        synapse.synapseID = k
        synapse.conductance = weight
    return synapse, weight


def worker(spec: dict) -> dict:
    """Build the network with one kind of synapse, time psolve (in this process)."""
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    from neuron import h

    from neurodamus.mechanisms import load_mechanisms

    load_mechanisms(h, Path(spec["library"]))
    h.load_file("stdrun.hoc")
    kind, cells, per_cell = spec["kind"], spec["cells"], spec["synapses_per_cell"]
    p = network_parameters(cells, per_cell, spec["seed"])
    pc = h.ParallelContext()
    h.dt = spec["dt"]
    h.celsius = 6.3
    keep: list[Any] = []
    sections = []
    for gid in range(cells):
        soma, dend = _cell(h, gid)
        sections.append((soma, dend))
        pc.set_gid2node(gid, 0)
        detector = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
        detector.threshold = -10.0
        pc.cell(gid, detector)
        clamp = h.IClamp(soma(0.5))
        clamp.delay, clamp.dur, clamp.amp = 1.0, 1e9, float(p["drive"][gid])
        keep += [detector, clamp]
    n_synapses = 0
    if kind != "none":
        for k in range(cells * per_cell):
            gid = int(p["target"][k])
            soma, dend = sections[gid]
            x = float(p["segment"][k])
            location = soma(0.5) if x < 0.1 else dend((x - 0.1) / 0.9)
            synapse, weight = _synapse(h, kind, location, p, k, gid)
            netcon = pc.gid_connect(int(p["source"][k]), synapse)
            netcon.delay, netcon.weight[0] = float(p["delay"][k]), weight
            keep += [synapse, netcon]
            if spec["minis_rate"] > 0:
                keep += _minis(h, kind, synapse, weight, spec["minis_rate"], k, gid)
            n_synapses += 1
    spikes_t, spikes_gid = h.Vector(), h.Vector()
    pc.spike_record(-1, spikes_t, spikes_gid)
    pc.set_maxstep(10)
    if spec["simulator"] == "coreneuron":
        from neuron import coreneuron

        h.cvode.cache_efficient(1)
        coreneuron.enable = True
        coreneuron.verbose = 0
    h.finitialize(-65.0)
    short, long = spec["tstop"] / 5.0, spec["tstop"]
    times: dict[str, list[float]] = {"short": [], "long": []}
    for _ in range(spec["repeats"]):
        for name, window in (("short", short), ("long", long)):
            started = time.process_time()
            pc.psolve(h.t + window)
            times[name].append(time.process_time() - started)
    steps = (round(long / h.dt) - round(short / h.dt))
    step_s = (min(times["long"]) - min(times["short"])) / steps
    simulated = spec["repeats"] * (short + long)
    return {"kind": kind, "simulator": spec["simulator"], "label": spec["label"],
            "synapses": n_synapses, "step_ns": step_s * 1e9, "times": times,
            "rate_hz": spikes_t.size() / cells / simulated * 1000.0}


# -- the driver side ---------------------------------------------------------------------------

def _library(sources: list[Path]) -> Path:
    from neurodamus.mechanisms import build_mechanisms

    started = time.perf_counter()
    library = build_mechanisms(sources, coreneuron=True)
    if time.perf_counter() - started > 5:
        print(f"  built {len(sources)} mod files in {time.perf_counter() - started:.0f} s",
              flush=True)
    return library


def _run_worker(spec: dict) -> dict | None:
    """One run in its own process; None (and the reason printed) when it fails."""
    env = dict(os.environ)
    env.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    env["OMP_NUM_THREADS"] = "1"
    result = subprocess.run([sys.executable, "-m", "benchmarks.synapse_cost",
                             "--worker", json.dumps(spec)], capture_output=True, text=True,
                            env=env)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        output = [line for line in (result.stdout + result.stderr).splitlines()
                  if line.strip() and "DISPLAY" not in line and "graphics" not in line]
        print(f"  {spec['simulator']} {spec['label']}: failed (exit {result.returncode}): "
              + " | ".join(output[-3:]), flush=True)
        return None
    return json.loads(lines[-1])


def _label_dir(text: str) -> tuple[str, Path]:
    label, sep, directory = text.partition("=")
    if not sep:
        label, directory = f"ours ({text})", text
    return label, Path(directory)


def table(rows: list[dict], labels: list[str], simulators,
          reference: str = "BBP interface") -> str:
    header = f"{'mechanism':<34}" + "".join(
        f"{name:>12}{'/ ' + reference[:3]:>9}" for name in
        (("NEURON" if s == "neuron" else "CoreNEURON") for s in simulators))
    lines = [header]
    by = {(r["label"], r["simulator"]): r for r in rows}
    labels = list(dict.fromkeys(label for label in labels if label != "cells only"))
    for label in labels:
        cells = []
        for simulator in simulators:
            row, ref = by.get((label, simulator)), by.get((reference, simulator))
            if row is None:
                cells.append(f"{'failed':>12}{'':>9}")
                continue
            ratio = row["ns"] / ref["ns"] if ref and ref["ns"] > 0 else float("nan")
            cells.append(f"{row['ns']:>12.1f}{ratio:>9.2f}")
        lines.append(f"{label:<34}" + "".join(cells))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="synapse_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--synapses-per-cell", type=int, default=200)
    parser.add_argument("--tstop", type=float, default=50.0, help="the long window (ms)")
    parser.add_argument("--dt", type=float, default=0.025)
    parser.add_argument("--repeats", type=int, default=2, help="window pairs per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every mechanism, "
                        "interleaved (the fastest counts: other load on the machine only slows)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minis-rate", type=float, default=0.0, metavar="HZ",
                        help="spontaneous releases per synapse and second (ours: inside the "
                        "mechanism; the others: a NetStim and NetCon per synapse)")
    parser.add_argument("--simulators", nargs="+", choices=SIMULATORS, default=list(SIMULATORS))
    parser.add_argument("--real-bbp", type=Path, metavar="DIR",
                        help="a folder of BBP mod files (ProbAMPANMDA_EMS, ProbGABAAB_EMS and "
                        "what they need), built whole")
    parser.add_argument("--ours", action="append", type=_label_dir, metavar="LABEL=DIR",
                        help="a folder of mod files with NdTmExc/NdTmInh to measure instead of "
                        "mod/ (repeatable: e.g. before=OLD_MOD after=mod)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))), flush=True)
        return

    from neurodamus.mechanisms import mechanism_sources, mod_files_of

    print("synapse_cost: building the mechanism libraries (cached)", flush=True)
    ours = [(label, _library(mod_files_of(directory))) for label, directory in args.ours] \
        if args.ours else [("ours (NdTmExc/NdTmInh)", _library(mechanism_sources()))]
    runs = [("cells only", "none", ours[0][1]), ("ExpSyn", "expsyn", ours[0][1])]
    runs += [(label, "ours", library) for label, library in ours]
    runs.append(("BBP interface", "bbp-interface", _library(sorted(BENCH_MOD.glob("*.mod")))))
    if args.real_bbp:
        real = mod_files_of(args.real_bbp)
        names = {path.stem for path in real}
        if not {"ProbAMPANMDA_EMS", "ProbGABAAB_EMS"} <= names:
            raise SystemExit(f"synapse_cost: {args.real_bbp} has no ProbAMPANMDA_EMS.mod "
                             "and ProbGABAAB_EMS.mod")
        runs.append(("real BBP (ProbAMPANMDA/GABAAB_EMS)", "real-bbp", _library(real)))
    n_synapses = args.cells * args.synapses_per_cell
    print(f"synapse_cost: {args.cells} cells x {args.synapses_per_cell} synapses = {n_synapses}, "
          f"{args.tstop:g} ms + {args.tstop / 5:g} ms windows x {args.repeats}, "
          f"{args.rounds} rounds, dt {args.dt:g}, minis {args.minis_rate:g} Hz, 1 rank",
          flush=True)
    best: dict[tuple[str, str], dict] = {}
    for round_ in range(args.rounds):
        for simulator in args.simulators:
            for label, kind, library in runs:
                spec = {"kind": kind, "label": label, "library": str(library),
                        "cells": args.cells, "synapses_per_cell": args.synapses_per_cell,
                        "tstop": args.tstop, "dt": args.dt, "repeats": args.repeats,
                        "seed": args.seed, "simulator": simulator,
                        "minis_rate": args.minis_rate}
                row = _run_worker(spec)
                if row is None:
                    continue
                print(f"  round {round_ + 1} {simulator:<10} {label:<34} "
                      f"{row['step_ns'] / 1e6:8.3f} ms/step  {row['rate_hz']:5.1f} Hz", flush=True)
                key = (label, simulator)
                if key not in best or row["step_ns"] < best[key]["step_ns"]:
                    best[key] = row
    rows = [row for row in best.values() if ("cells only", row["simulator"]) in best]
    for row in rows:
        floor = best[("cells only", row["simulator"])]["step_ns"]
        row["ns"] = (row["step_ns"] - floor) / row["synapses"] if row["synapses"] else 0.0
    print("\nns per synapse and step in psolve (the run less the cells alone, over the synapses);"
          " / BBP: over the BBP interface")
    print(table(rows, [label for label, _, _ in runs], args.simulators))
    if args.json:
        args.json.write_text(json.dumps({"arguments": {k: str(v) for k, v in vars(args).items()},
                                         "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
