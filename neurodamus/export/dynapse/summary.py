"""What the terminal shows: the export in a few lines, and the check simulation's spike counts."""

import json
from pathlib import Path

import numpy as np

from .chip_config import ChipConfig
from .chip_model import ChipRun
from .cores import MAX_CORES, SPREAD_LIMIT
from .parameters import CURRENT_NAMES


def export_summary(config: ChipConfig, notes=()) -> str:
    populations, sizes = np.unique(config.neuron_population, return_counts=True)
    chips = np.unique(config.core_chip)
    lines = [
        f"neurons: {len(config.neuron_node_id)} ("
        + ", ".join(f"{p} {n}" for p, n in zip(populations, sizes)) + ")",
        f"cores used: {len(config.core_chip)} of {MAX_CORES}, on chip(s) "
        + ", ".join(str(c) for c in chips),
        f"input channels: {len(config.input_node_id)}",
        f"synapses: {config.n_edges} SONATA edges -> {len(config.cam_neuron)} CAM entries "
        "(edges of one source and target merged)",
    ]
    if len(config.cam_weight):
        error = np.abs(config.cam_weight - config.cam_weight_quantized)
        worst = int(np.argmax(error))
        row = config.neuron_core_row[config.cam_neuron[worst]]
        relative = config.quantization_errors()[row][2]
        lines.append(
            f"worst weight error: {error[worst]:.4g} on a weight of "
            f"{abs(config.cam_weight[worst]):.4g} "
            f"({100 * relative:.1f}% of its core's largest weight), chip {config.core_chip[row]} "
            f"core {config.core_index[row]}: {config.cam_source_name(worst)} -> "
            f"{config.neuron_name(int(config.cam_neuron[worst]))}")
    else:
        lines.append("worst weight error: none (no synapses)")
    lines.append(f"averaged over a core with a spread above {100 * SPREAD_LIMIT:.0f}%:"
                 + ("" if (config.core_spread > SPREAD_LIMIT).any() else " none"))
    for row, spreads in enumerate(config.core_spread):
        wide = [f"{name} {100 * value:.0f}%" for name, value in zip(CURRENT_NAMES, spreads)
                if value > SPREAD_LIMIT]
        if wide:
            lines.append(f"  chip {config.core_chip[row]} core {config.core_index[row]}: "
                         + ", ".join(wide))
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines)


def comparison_table(config: ChipConfig, chip_counts, neuron_counts, duration_ms: float) -> str:
    header = ("population", "node_id", "chip", "core", "neuron", "chip model", "NEURON")
    rows = [(str(config.neuron_population[i]), str(config.neuron_node_id[i]),
             str(config.neuron_chip[i]), str(config.neuron_core[i]),
             str(config.neuron_address[i]), str(chip_counts[i]), str(neuron_counts[i]))
            for i in range(len(config.neuron_node_id))]
    rows.append(("total", "", "", "", "", str(int(np.sum(chip_counts))),
                 str(int(np.sum(neuron_counts)))))
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = [f"spike counts in {duration_ms:g} ms: the chip model (NumPy) next to NEURON"]
    for row in [header, *rows]:
        lines.append("  ".join(cell.rjust(width) if k >= 1 else cell.ljust(width)
                               for k, (cell, width) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def _first(times) -> float | None:
    return float(times[0]) if len(times) else None


def simulation_document(config: ChipConfig, chip: ChipRun, neuron_times, neuron_dt_ms: float):
    """Per neuron: the chip model's and NEURON's spike counts and first spike times (ms,
    null where it did not fire), with the steps both used."""
    neurons = []
    for i in range(len(config.neuron_node_id)):
        neurons.append({
            "population": str(config.neuron_population[i]),
            "node_id": int(config.neuron_node_id[i]),
            "chip_model": {"count": len(chip.spike_times[i]),
                           "first_spike_ms": _first(chip.spike_times[i])},
            "neuron": {"count": len(neuron_times[i]),
                       "first_spike_ms": _first(neuron_times[i])}})
    return {"duration_ms": chip.duration_ms,
            "chip_model": {"dt_ms": chip.dt_ms, "integrator": "RK4 in ln(I_mem), events at "
                           "their exact times", "total": int(chip.counts.sum())},
            "neuron": {"dt_ms": neuron_dt_ms, "total": int(sum(len(t) for t in neuron_times))},
            "neurons": neurons}


def write_simulation(directory, config: ChipConfig, chip: ChipRun, neuron_times,
                     neuron_dt_ms: float) -> Path:
    """DIR/simulation.json (see simulation_document)."""
    path = Path(directory) / "simulation.json"
    document = simulation_document(config, chip, neuron_times, neuron_dt_ms)
    path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
    return path
