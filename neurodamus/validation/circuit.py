"""The circuit-data phase: what can be checked from the files alone, before any cell or
synapse exists, on every rank without a collective (each rank scans its share of every
edge population; every rank reads the replay spike files, as the replay will)."""

import logging
from pathlib import Path

from ..connectivity.replay import read_spike_file
from .edges import check_edge_ids
from .replay import check_replay_spikes

log = logging.getLogger("neurodamus")
REPLAY_MODULE = "synapse_replay"


def check_circuit_data(settings, circuit, rank: int, size: int, is_root: bool):
    sizes = {name: population.size for name, population in circuit.populations.items()}
    for edge_settings in sorted(settings.circuit.edge_populations, key=lambda e: e.name):
        if edge_settings.source in sizes and edge_settings.target in sizes:
            check_edge_ids(edge_settings, sizes[edge_settings.source],
                           sizes[edge_settings.target], rank, size)
    for replay in (i for i in settings.inputs if i.module == REPLAY_MODULE):
        path = Path(replay.parameters["spike_file"])
        if not path.is_absolute():
            path = settings.config_file.parent / path
        spikes = read_spike_file(path, replay.parameters.get("source"), replay.name)
        for warning in check_replay_spikes(spikes, sizes, path,
                                           f"inputs.{replay.name}.spike_file"):
            if is_root:  # every rank read the same file: one warning, from rank 0
                log.warning("warning: %s", warning)
