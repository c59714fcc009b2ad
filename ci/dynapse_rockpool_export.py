"""Our half of ci/dynapse-rockpool (runs in the project's .venv): exports and chip-model runs.

Writes into OUT, for each network: the export (dynapse.json, samna_config.json), what Rockpool's
allocator needs to build its monitor routes, and, with inhibition off, the network as DynapSim
takes it (per-neuron currents, recurrent weights, input spikes as weights per step) with our
chip model's spike counts. ci/dynapse_rockpool_check.py reads them in Rockpool's environment.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

from test_dynapse_convergence import ei_network, lif_network  # noqa: E402

from neurodamus.export.dynapse.bias_codes import core_bias_codes  # noqa: E402
from neurodamus.export.dynapse.chip_config import build_chip_config  # noqa: E402
from neurodamus.export.dynapse.chip_model import run_chip  # noqa: E402
from neurodamus.export.dynapse.parameters import CURRENT_NAMES, I_SCALE  # noqa: E402
from neurodamus.export.dynapse.quantize import MASK_BITS  # noqa: E402
from neurodamus.export.dynapse.samna_config import write_samna_config  # noqa: E402
from neurodamus.export.dynapse.writer import write_export  # noqa: E402

DURATION_MS = 1000.0


def excitatory_only(network):
    """The same network without its inhibitory synapses (DynapSim has no GABA path)."""
    keep = network.edge_weight > 0
    return lif_network(len(network.node_id), list(zip(
        network.edge_source[keep], network.edge_from_input[keep], network.edge_target[keep],
        network.edge_weight[keep])), len(network.input_node_id),
        population=network.population)


def feed_forward(seed=5, n=40, n_inputs=30, duration=DURATION_MS):
    """40 LIFs, each fed by about 10 of 30 Poisson channels at 15 Hz, no recurrence."""
    rng = np.random.default_rng(seed)
    edges = [(k, True, t, rng.choice([1.0, 2.0])) for t in range(n) for k in range(n_inputs)
             if rng.random() < 0.33]
    spikes = [np.sort(rng.uniform(0, duration, rng.poisson(15 * duration / 1000)))
              for _ in range(n_inputs)]
    return lif_network(n, edges, n_inputs), spikes


def dynapsim_inputs(config, spikes):
    """Recurrent weights [pre, post] and input weights [channel, post], in units of Iscale."""
    n, n_in = len(config.neuron_node_id), len(config.input_node_id)
    rows = config.neuron_core_row[config.cam_neuron]
    current = np.sum(MASK_BITS[config.cam_mask] * config.core_base_weights[rows], axis=1)
    w_rec, w_in = np.zeros((n, n)), np.zeros((n_in, n))
    recurrent = ~config.cam_source_is_input
    np.add.at(w_rec, (config.cam_source[recurrent], config.cam_neuron[recurrent]),
              current[recurrent] / I_SCALE)
    np.add.at(w_in, (config.cam_source[~recurrent], config.cam_neuron[~recurrent]),
              current[~recurrent] / I_SCALE)
    currents = config.core_currents[config.neuron_core_row]
    return {"w_rec": w_rec.tolist(), "w_in": w_in.tolist(),
            "currents": {name: currents[:, k].tolist() for k, name in enumerate(CURRENT_NAMES)},
            "input_spikes_ms": [np.asarray(s).tolist() for s in spikes]}


def main(out: Path) -> None:
    ei, ei_spikes = ei_network(duration=DURATION_MS)
    networks = {"ei60_excitation": (excitatory_only(ei), ei_spikes),
                "ff40": feed_forward(),
                "ei60": (ei, ei_spikes)}
    for name, (network, spikes) in networks.items():
        directory = out / name
        config, notes = build_chip_config(network)
        write_export(config, directory, notes)
        write_samna_config(config, directory, core_bias_codes(config))
        record = {"neuron_chip": config.neuron_chip.tolist(),
                  "neuron_core_global": (config.neuron_chip * 4 + config.neuron_core).tolist()}
        if "excitation" in name or name == "ff40":
            start = time.perf_counter()
            run = run_chip(config, spikes, DURATION_MS)
            record["chip_model_counts"] = run.counts.tolist()
            record["chip_model_seconds"] = time.perf_counter() - start
            record["dynapsim"] = dynapsim_inputs(config, spikes)
        (directory / "check.json").write_text(json.dumps(record))
        print(f"{name}: {len(config.neuron_node_id)} neurons exported to {directory}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
