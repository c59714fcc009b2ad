"""bmtk's order of connecting edge populations (which fixes the order of run-time placement
draws): recurrent edges, then per spike input the edges from its source, then replays;
syn_activity's edges from virtual copies of recurrent sources keep the recurrent turn."""

import json
from pathlib import Path

from neurodamus.config.settings import (
    CircuitSettings,
    EdgePopulationSettings,
    InputSettings,
    NodePopulationSettings,
)
from neurodamus.connectivity.replay import REPLAY_COPY_MARK, SPONT_COPY_SUFFIX
from neurodamus.dialects.bmtk_placement import bmtk_gid_offsets, connection_order


def _circuit(tmp_path: Path, edges: list[tuple[str, str]], nodes: list[tuple[str, str]]):
    config = tmp_path / "circuit_config.json"
    config.write_text(json.dumps({"networks": {"edges": [
        {"edges_file": f"{name}.h5", "populations": {name: {}}} for name, _ in edges]}}))
    return CircuitSettings(
        config_file=config,
        node_populations=tuple(NodePopulationSettings(name, kind, Path(f"{name}.h5"), None, {},
                                                      None, None) for name, kind in nodes),
        edge_populations=tuple(EdgePopulationSettings(name, "chemical", Path(f"{name}.h5"),
                                                      source, "v1") for name, source in edges),
        mechanisms_dirs=())


def test_syn_activity_copies_are_connected_in_the_recurrent_turn(tmp_path):
    spont, replay = f"v1{SPONT_COPY_SUFFIX}", f"v1{REPLAY_COPY_MARK}rep"
    # in circuit-config order: the spike input's edges first, then the two copies' edges
    edges = [("lgn_v1", "lgn"), (f"v1_v1{SPONT_COPY_SUFFIX}", spont),
             (f"v1_v1{REPLAY_COPY_MARK}rep", replay)]
    nodes = [("v1", "biophysical"), ("lgn", "virtual"), (spont, "virtual"),
             (replay, "virtual")]
    circuit = _circuit(tmp_path, edges, nodes)
    spikes = InputSettings("lgn_spikes", "synapse_replay", "spikes", "all", 0.0, 100.0,
                           {"source": "lgn"})
    assert connection_order(circuit, [spikes]) == [
        f"v1_v1{SPONT_COPY_SUFFIX}", "lgn_v1", f"v1_v1{REPLAY_COPY_MARK}rep"]
    # the copies have no bmtk gids: v1 from 0, lgn after v1's 10 nodes
    sizes = {"v1": 10, "lgn": 4, spont: 10, replay: 10}
    assert bmtk_gid_offsets(circuit, sizes) == {"v1": 0, "lgn": 10}
