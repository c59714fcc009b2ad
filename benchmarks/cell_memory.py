"""The dry run's memory per cell against what building many cells of a kind really costs.

    python benchmarks/cell_memory.py SIMULATION_CONFIG [--mechanisms DIR] [--copies N]
        [--kinds K] [--whole-set]

For each of the first K kinds of the config's node set (as the cell engines define kinds:
template and morphology for hoc cells): the dry run's estimate (balance.memory.measure_kinds,
as the dry run and --lb-mode Memory measure it) and, in a fresh process per kind, the growth of
the resident memory while N cells of that kind are built, divided by N (the measured cost).
Prints one table line per kind. With --whole-set, one line instead: what the dry run expects
one process to need for every cell of the node set (its first cells' one-off, dry_run.
first_cells_mb, plus the per-cell figures) against the growth while a fresh process builds
them all, one cell per node. Needs no quiet machine to be meaningful (memory, not time),
but a loaded machine can make a page or two of noise.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


def _prepare(config: str, mechanisms: list[str]):
    import libsonata
    from neuron import h

    from neurodamus.balance.cost import first_nodes, kind_groups
    from neurodamus.circuit.nodes import open_circuit
    from neurodamus.config.loader import load_settings
    from neurodamus.mechanisms import build_mechanisms, load_mechanisms, mechanism_sources

    settings = load_settings(config, mechanism_dirs=[Path(m) for m in mechanisms])
    dirs = (*settings.circuit.mechanisms_dirs, *[Path(m) for m in mechanisms])
    load_mechanisms(h, build_mechanisms(mechanism_sources(dirs)))
    h.load_file("stdrun.hoc")
    circuit = open_circuit(settings, libsonata.NodeSets(settings.node_sets_json))
    groups = kind_groups(circuit, circuit.target_gids(settings.node_set))
    return h, h.ParallelContext(), settings, sorted(first_nodes(groups).items())


def _built(config, mechanisms, index: int, copies: int) -> float:
    """MB per cell over `copies` cells of kind `index` (after one not counted)."""
    from neurodamus.dry_run import trimmed_resident_mb

    h, pc, settings, kinds = _prepare(config, mechanisms)
    _, (group, kind, node_id) = kinds[index]
    build = lambda: group.engine.sample(group.population, kind, node_id, h,  # noqa: E731
                                        pc, settings.run)
    keep = [build()]
    before = trimmed_resident_mb()
    keep += [build() for _ in range(copies)]
    return (trimmed_resident_mb() - before) / copies


def _built_all(config, mechanisms) -> float:
    """MB a fresh process grows by while it builds every cell of the node set."""
    import numpy as np

    from neurodamus.balance.memory import memory_plan
    from neurodamus.dry_run import trimmed_resident_mb

    h, pc, settings, _ = _prepare(config, mechanisms)
    plan = _plan(settings, memory_plan)
    before = trimmed_resident_mb()
    keep = [group.engine.sample(group.population, kind, int(node_id), h, pc, settings.run)
            for group in plan.groups
            for node_id, kind in zip(np.asarray(group.node_ids), group.kinds)]
    grown = trimmed_resident_mb() - before
    del keep
    return grown


def _plan(settings, memory_plan):
    import libsonata

    from neurodamus.circuit.nodes import open_circuit

    circuit = open_circuit(settings, libsonata.NodeSets(settings.node_sets_json))
    return memory_plan(circuit, circuit.target_gids(settings.node_set))


def _whole_set(args):
    import numpy as np

    from neurodamus.balance.memory import measure_kinds, memory_plan
    from neurodamus.dry_run import first_cells_mb

    h, pc, settings, _ = _prepare(args.config, args.mechanisms)
    plan = _plan(settings, memory_plan)
    per_kind, _, first = measure_kinds(h, pc, settings.run, plan.samples)
    everyone = np.ones(len(plan.keys), bool)
    estimate = first_cells_mb(plan.keys, everyone, first) + sum(
        per_kind.get(key, 0.0) for key in plan.keys if key is not None)
    extra = [f"--mechanisms={m}" for m in args.mechanisms]
    child = subprocess.run([sys.executable, __file__, args.config, *extra, "--built-all"],
                           capture_output=True, text=True, check=True)
    built = float(child.stdout.strip().splitlines()[-1])
    print(f"{'cells':>6}{'estimate MB':>13}{'built MB':>11}{'ratio':>8}")
    print(f"{len(plan.keys):>6}{estimate:>13.3f}{built:>11.3f}{estimate / built:>8.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--mechanisms", action="append", default=[])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--kinds", type=int, default=5)
    parser.add_argument("--whole-set", action="store_true")
    parser.add_argument("--built", type=int, help=argparse.SUPPRESS)  # the child's kind
    parser.add_argument("--built-all", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.built_all:
        print(json.dumps(_built_all(args.config, args.mechanisms)))
        return
    if args.whole_set:
        _whole_set(args)
        return
    if args.built is not None:
        print(json.dumps(_built(args.config, args.mechanisms, args.built, args.copies)))
        return
    from neurodamus.balance.memory import measure_kinds

    h, pc, settings, kinds = _prepare(args.config, args.mechanisms)
    print(f"{'kind':<60}{'estimate MB':>13}{'built MB':>11}{'ratio':>8}")
    for index, (key, (group, kind, node_id)) in enumerate(kinds[:args.kinds]):
        estimate = measure_kinds(h, pc, settings.run, {key: (group, kind, node_id)})[0][key]
        extra = [f"--mechanisms={m}" for m in args.mechanisms]
        child = subprocess.run([sys.executable, __file__, args.config, *extra, "--built",
                                str(index), "--copies", str(args.copies)],
                               capture_output=True, text=True, check=True)
        built = float(child.stdout.strip().splitlines()[-1])
        label = "/".join(str(p) for p in (key[0], *kind))[-60:]
        print(f"{label:<60}{estimate:>13.3f}{built:>11.3f}{estimate / built:>8.2f}")


if __name__ == "__main__":
    main()
