"""What a fit leaves in its output folder (rank 0 writes):

- `checkpoint.json`: every evaluated point (exact, as float.hex) with its losses, rewritten
  after each batch; a fit started again with the same spec answers these points from it
  (optimisers.py), so a fit stopped by SIGTERM resumes where it stopped;
- `history.csv`: one row per evaluation (index, batch, group, seconds, total loss, each
  target's loss, each parameter's value);
- `best_parameters.json`, `fitted_simulation_config.json` (the best values applied through
  the config's own mechanisms, paths absolute: ready to run);
- `convergence.png` and `best_vs_target.png` (with matplotlib, the `plot` extra);
- `run_summary.json`.
"""

import csv
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .spec import FitSpec

log = logging.getLogger("neurodamus")
CHECKPOINT = "checkpoint.json"


def _write(path: Path, text: str):
    """Written whole or not at all: a fit killed mid-write keeps the previous file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def point_key(point) -> str:
    return ",".join(float(x).hex() for x in point)


@dataclass
class Record:
    point: np.ndarray
    values: dict[str, float]
    loss: float
    parts: dict[str, float]
    seconds: float
    group: int
    batch: int
    resumed: bool = False


@dataclass
class History:
    """Every evaluation, in order; the same on every rank."""

    records: list[Record] = field(default_factory=list)
    cached: dict[str, dict] = field(default_factory=dict)  # from a checkpoint
    batches: int = 0

    def best(self) -> Record:
        return min(self.records, key=lambda r: r.loss)


def load_checkpoint(spec: FitSpec) -> dict[str, dict]:
    """The evaluations of an earlier run of this spec (empty if none)."""
    path = spec.output_dir / CHECKPOINT
    if not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(f"unreadable checkpoint ({error}); remove it to start afresh",
                          file=path) from None
    for part, mine in (("parameters", _parameters(spec)), ("targets", _targets(spec)),
                       ("optimiser", _optimiser(spec))):
        if saved.get(part) != json.loads(json.dumps(mine)):
            raise ConfigError(f"the checkpoint is of another fit (its {part} differ); remove "
                              "it or choose another output_dir", file=path)
    return {row["point"]: row for row in saved["evaluations"]}


def _parameters(spec: FitSpec) -> list:
    """What maps an optimiser's point to values: a checkpoint answers points, so these
    must not change between a fit and its resumption."""
    return [[p.name, p.low, p.high, p.scale, p.kind, p.where] for p in spec.parameters]


def _targets(spec: FitSpec) -> list:
    return [[t.name, t.type, t.loss, t.weight, str(t.file), t.report, t.window, t.tau,
             t.rates] for t in spec.targets]


def _optimiser(spec: FitSpec) -> dict:
    o = spec.optimiser
    return {"method": o.method, "seed": o.seed, "population": o.population,
            "sigma": o.sigma}  # not the budget: a resumed fit may be given more


def write_checkpoint(spec: FitSpec, history: History):
    rows = [{"point": point_key(r.point), "loss": r.loss, "parts": r.parts,
             "seconds": r.seconds, "group": r.group} for r in history.records]
    _write(spec.output_dir / CHECKPOINT, json.dumps(
        {"parameters": _parameters(spec), "targets": _targets(spec),
         "optimiser": _optimiser(spec), "evaluations": rows}))


def write_history(spec: FitSpec, history: History):
    names = [p.name for p in spec.parameters]
    targets = [t.name for t in spec.targets]
    partial = spec.output_dir / "history.csv.partial"
    with open(partial, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["evaluation", "batch", "group", "seconds", "resumed", "loss",
                         *[f"loss_{t}" for t in targets], *names])
        for i, r in enumerate(history.records):
            writer.writerow([i, r.batch, r.group, f"{r.seconds:.4f}", int(r.resumed),
                             repr(r.loss), *[repr(r.parts.get(t, np.nan)) for t in targets],
                             *[repr(r.values[n]) for n in names]])
    os.replace(partial, spec.output_dir / "history.csv")


def write_results(spec: FitSpec, history: History, fitted_config: dict, summary: dict):
    best = history.best()
    _write(spec.output_dir / "best_parameters.json", json.dumps(
        {"parameters": best.values, "loss": best.loss, "losses": best.parts}, indent=2) + "\n")
    _write(spec.output_dir / "fitted_simulation_config.json",
           json.dumps(fitted_config, indent=2) + "\n")
    _write(spec.output_dir / "run_summary.json", json.dumps(summary, indent=2) + "\n")


def write_plots(spec: FitSpec, history: History, data: dict, best_outputs: dict) -> list[str]:
    """convergence.png (every loss and the best so far) and best_vs_target.png (traces of
    the best candidate over the target's); the names written (none without matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (the `plot` extra): no plots written")
        return []
    written = []
    losses = np.array([r.loss for r in history.records])
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.semilogy(np.arange(losses.size), losses, ".", color="0.6", label="evaluations")
    axis.semilogy(np.arange(losses.size), np.minimum.accumulate(losses), "-", label="best")
    axis.set_xlabel("evaluation")
    axis.set_ylabel("loss")
    axis.legend()
    figure.tight_layout()
    figure.savefig(spec.output_dir / "convergence.png", dpi=100)
    plt.close(figure)
    written.append("convergence.png")
    traces = [t for t in spec.targets if t.type == "report" and t.name in best_outputs]
    if traces:
        rows = sum(len(data[t.name].node_ids) for t in traces)
        figure, axes = plt.subplots(rows, 1, figsize=(7, 2.2 * rows), squeeze=False)
        row = 0
        for target in traces:
            expected, actual = data[target.name], best_outputs[target.name]
            for i, node in enumerate(expected.node_ids):
                axis = axes[row][0]
                axis.plot(expected.times, expected.data[i], "k-", lw=1, label="target")
                j = int(np.flatnonzero(actual.node_ids == node)[0])
                axis.plot(actual.times, actual.data[j], "r--", lw=1, label="best")
                axis.set_ylabel(f"{target.name}\nnode {int(node)} (mV)")
                row += 1
        axes[0][0].legend()
        axes[-1][0].set_xlabel("time (ms)")
        figure.tight_layout()
        figure.savefig(spec.output_dir / "best_vs_target.png", dpi=100)
        plt.close(figure)
        written.append("best_vs_target.png")
    return written
