"""Saved load-balance assignments, keyed by circuit, node set and rank count, so that the
costs are measured once and later runs (and runs preparing for another rank count with
--num-target-ranks) reuse them."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np


def assignment_key(settings, n_ranks: int) -> str:
    circuit = Path(settings.circuit.config_file).resolve()
    files = sorted(str(p.nodes_file) for p in settings.circuit.node_populations)
    files += sorted(str(e.edges_file) for e in settings.circuit.edge_populations)
    stamp = [(f, os.path.getsize(f)) for f in files if os.path.exists(f)]
    text = json.dumps([str(circuit), settings.node_set, n_ranks, stamp])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def assignment_path(cache_dir: Path, settings, n_ranks: int) -> Path:
    return Path(cache_dir) / f"wholecell-{n_ranks}ranks-{assignment_key(settings, n_ranks)}.npz"


def load_assignment(path: Path):
    """(gids, ranks, costs) or None."""
    if not path.is_file():
        return None
    data = np.load(path)
    return data["gids"], data["ranks"], data["costs"]


def save_assignment(path: Path, gids, ranks, costs):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial.npz")
    np.savez(partial, gids=np.asarray(gids), ranks=np.asarray(ranks), costs=np.asarray(costs))
    os.replace(partial, path)
