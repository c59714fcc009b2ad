"""Per-cell build time of BBP-style e-model cells, step by step (`ci/bench-emodel`'s profile).

    python -m benchmarks.emodel_steps CIRCUIT_DIR [--cells N] [--plain] [--bin B]

Builds the first N cells of a circuit written by testing/bbp_style/detailed.py as the cells
phase builds them (template, re_init_rng, the cell record, spike detector and gid
registration), in one process, with a copy of the template whose constructor times each of
its calls (morphology, nseg, channels, parameters, axon): the template's statements are
unchanged, only timers are put around them. `--plain` keeps NEURON's own Import3d classes
(every cell reads its file); otherwise the driver's (each file read once). Prints one JSON
line: milliseconds per cell by step, and the resident memory the cells added. `--bin B`
adds the same per consecutive B cells (cells 0..B-1, B..2B-1, ...): how a cell's cost grows
with the cells already on the rank (the growth of the cells phase from 100 to 800 cells).
"""

import argparse
import json
import os
import re
import time
from pathlib import Path

STEPS = ("load_morphology", "count_sections", "set_nseg", "insert_channels", "set_parameters",
         "replace_axon")


def instrumented(text: str, name: str, new: str) -> str:
    """The template renamed `new`, each step call of its init between two startsw()."""
    text = re.sub(rf"\b{name}\b", new, text)
    text = text.replace("public init,", "public init, nd_times,", 1)
    text = text.replace("objref all,", "objref nd_times, all,", 1)
    for k, step in enumerate(STEPS):
        def timed(m: re.Match, k: int = k) -> str:
            indent, call = m.group(1), m.group(2)
            return (f"\n{indent}nd_t = startsw()\n{indent}{call}\n"
                    f"{indent}nd_times.x[{k}] = startsw() - nd_t\n")

        text = re.sub(rf"\n(\s*)({step}\([^\n]*\))\n", timed, text, count=1)
    return text.replace("    forall delete_section()\n",
                        f"    forall delete_section()\n    nd_times = new Vector({len(STEPS)})\n",
                        1)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(prog="emodel_steps", description=__doc__.split("\n\n")[0])
    parser.add_argument("circuit", type=Path)
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--bin", type=int, default=0, help="also per consecutive BIN cells")
    args = parser.parse_args(argv)
    if args.plain:
        os.environ["NEURODAMUS_PLAIN_IMPORT3D"] = "1"
    from neuron import h

    from neurodamus.cells import import3d_cache
    from neurodamus.cells.biophysical import BiophysicalCell, spike_detector
    from neurodamus.cells.hoc_calls import call_hoc
    from neurodamus.cells.record import register_cell
    from neurodamus.testing.bbp_style.detailed import TEMPLATE

    import3d_cache.install(h)
    h.load_file("stdrun.hoc")
    pc = h.ParallelContext()
    source = args.circuit / "emodels" / f"{TEMPLATE}.hoc"
    timed = args.circuit / "emodels" / f"Timed{TEMPLATE}.hoc"
    timed.write_text(instrumented(source.read_text(), TEMPLATE, f"Timed{TEMPLATE}"))
    h.load_file(str(timed))
    template = getattr(h, f"Timed{TEMPLATE}")
    morphologies = sorted((args.circuit / "morphologies").glob("*.asc"))
    paths = [morphologies[i % len(morphologies)] for i in range(args.cells)]

    class Run:
        spike_threshold, ionchannel_seed = -30.0, 0.0

    class Conditions:
        spike_location = "soma"

    totals = dict.fromkeys([*STEPS, "template (rest)", "re_init_rng", "cell record",
                            "spike detector + gid", "driver call"], 0.0)
    t0 = time.perf_counter()
    for _ in range(100):  # what call_hoc adds to a call (stdout/stderr capture)
        call_hoc(pc, "nothing", h.Vector)
    overhead = (time.perf_counter() - t0) / 100
    before = _rss_mb()
    cells = []
    per_gid: list[dict] = []
    started = time.perf_counter()
    with import3d_cache.reuse(paths) as counts:
        for gid, path in enumerate(paths):
            t0 = time.perf_counter()
            hoc = call_hoc(pc, "template", template, gid, str(path.parent), path.name, 0)
            t1 = time.perf_counter()
            call_hoc(pc, "rng", hoc.re_init_rng, 0.0)
            t2 = time.perf_counter()
            cell = BiophysicalCell(gid, "cortex", gid, hoc)
            t3 = time.perf_counter()
            register_cell(h, pc, cell, 0, spike_detector(h, cell, Conditions.spike_location,
                                                         "cortex"), Run)
            t4 = time.perf_counter()
            steps = [hoc.nd_times.x[k] for k in range(len(STEPS))]
            this = dict(zip(STEPS, steps))
            this["template (rest)"] = max((t1 - t0) - overhead - sum(steps), 0.0)
            this["driver call"] = overhead
            this["re_init_rng"] = t2 - t1
            this["cell record"] = t3 - t2
            this["spike detector + gid"] = t4 - t3
            for step, seconds in this.items():
                totals[step] += seconds
            per_gid.append(this)
            cells.append(cell)
    wall = time.perf_counter() - started
    per_cell = {step: 1000 * value / args.cells for step, value in totals.items()}
    bins = []
    for first in range(0, args.cells, args.bin) if args.bin else ():
        chunk = per_gid[first:first + args.bin]
        ms = {step: round(1000 * sum(c[step] for c in chunk) / len(chunk), 3) for step in totals}
        bins.append({"cells": f"{first}-{first + len(chunk) - 1}", "ms_per_cell": ms,
                     "ms_per_cell_total": round(sum(ms.values()), 3)})
    print(json.dumps({"mode": "plain" if args.plain else "cached", "cells": args.cells,
                      "ms_per_cell": per_cell,
                      "ms_per_cell_total": sum(per_cell.values()),
                      "read": counts["read"], "replayed": counts["replayed"],
                      "rss_mb_added": _rss_mb() - before, "wall_s": wall,
                      **({"bins": bins} if args.bin else {})}))


if __name__ == "__main__":
    main()
