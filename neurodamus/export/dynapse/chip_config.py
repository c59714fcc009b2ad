"""The whole export as arrays (ChipConfig), built from a PointNetwork in one pass of checks.

Rows: neurons in the order of network.py; cores in use sorted by (chip, core); CAM entries
sorted by target neuron and slot; destinations by neuron and slot. Everything a program
needs is an array here; writer.py only changes the container.
"""

from dataclasses import dataclass

import numpy as np

from .cores import CORES_PER_CHIP, CoreAssignment, assign_cores
from .network import PointNetwork
from .parameters import (
    DEFAULT_CONVERSION,
    I_SCALE,
    check_representable,
    core_average,
    lif_to_currents,
)
from .quantize import MASK_BITS, N_BASE_WEIGHTS, quantize_weights
from .routing import merge_connections, route


@dataclass(frozen=True)
class ChipConfig:
    neuron_population: np.ndarray
    neuron_node_id: np.ndarray
    neuron_kind: np.ndarray
    neuron_chip: np.ndarray
    neuron_core: np.ndarray            # core on its chip, 0..3
    neuron_address: np.ndarray         # neuron on its core, 0..255
    neuron_tag: np.ndarray             # in its targets' CAMs; with chip, the output map
    neuron_parameters: np.ndarray      # [n, 6] dimensionless, parameters.PARAMETER_NAMES
    core_chip: np.ndarray
    core_index: np.ndarray
    core_currents: np.ndarray          # [cores, 13] A, parameters.CURRENT_NAMES
    core_spread: np.ndarray            # [cores, 13] max |I_neuron - I_core| / I_core
    core_base_weights: np.ndarray      # [cores, 4] A, Iw_0..Iw_3
    cam_neuron: np.ndarray
    cam_slot: np.ndarray
    cam_dendrite: np.ndarray           # 1024 AMPA, 512 GABA
    cam_mask: np.ndarray               # 4 bits: which base weights add up
    cam_tag: np.ndarray
    cam_source: np.ndarray             # input channel or neuron index
    cam_source_is_input: np.ndarray
    cam_weight: np.ndarray             # dimensionless, signed: what the circuit asks for
    cam_weight_quantized: np.ndarray   # dimensionless, signed: what the chip gives
    dest_neuron: np.ndarray
    dest_slot: np.ndarray
    dest_chip: np.ndarray
    dest_core_mask: np.ndarray         # bit k: core k of dest_chip
    dest_x_hop: np.ndarray
    dest_y_hop: np.ndarray
    dest_tag: np.ndarray
    dest_monitor: np.ndarray
    input_population: np.ndarray
    input_node_id: np.ndarray
    input_tag: np.ndarray
    input_dest_channel: np.ndarray
    input_dest_chip: np.ndarray
    input_dest_core_mask: np.ndarray
    input_dest_tag: np.ndarray
    chip_position: np.ndarray          # [4, 2] board grid
    mv_per_unit: float                 # NaN where no LIF was given in mV
    n_edges: int                       # SONATA edges, before merging

    @property
    def neuron_core_row(self) -> np.ndarray:
        """Row of the core arrays for each neuron."""
        keys = self.core_chip * CORES_PER_CHIP + self.core_index
        return np.searchsorted(keys, self.neuron_chip * CORES_PER_CHIP + self.neuron_core)

    def quantization_errors(self) -> list[tuple[float, float, float]]:
        """Per core: (rms error, max |error|, max |error| / max |weight|), dimensionless."""
        rows = self.neuron_core_row[self.cam_neuron]
        errors = np.abs(self.cam_weight - self.cam_weight_quantized)
        result = []
        for row in range(len(self.core_chip)):
            on_core = rows == row
            if not on_core.any():
                result.append((0.0, 0.0, 0.0))
                continue
            largest, worst = np.abs(self.cam_weight[on_core]).max(), errors[on_core].max()
            result.append((float(np.sqrt(np.mean(errors[on_core] ** 2))), float(worst),
                           float(worst / largest) if largest > 0 else 0.0))
        return result

    def neuron_name(self, i: int) -> str:
        return f"{self.neuron_population[i]}[{self.neuron_node_id[i]}]"

    def input_name(self, k: int) -> str:
        return f"{self.input_population[k]}[{self.input_node_id[k]}]"

    def cam_source_name(self, s: int) -> str:
        source = self.cam_source[s]
        return (f"input {self.input_name(source)}" if self.cam_source_is_input[s]
                else self.neuron_name(source))


def build_chip_config(network: PointNetwork, cores: CoreAssignment | None = None,
                      currents: str = DEFAULT_CONVERSION):
    """(ChipConfig, notes): checks parameters, assigns cores (auto unless given), routes and
    quantizes; `currents` is the conversion of parameters.lif_to_currents."""
    names = [network.neuron_name(i) for i in range(network.n_neurons)]
    check_representable(network.params, names)
    p = network.params
    neuron_currents = lif_to_currents(p.tau_mem_ms, p.tau_syn_ms, p.threshold, p.bias, p.t_ref_ms,
                                      currents)
    cores = cores if cores is not None else assign_cores(network.population, neuron_currents)
    connections = merge_connections(network.edge_source, network.edge_from_input,
                                    network.edge_target, network.edge_weight)
    routing = route(connections, cores, network.n_inputs, names,
                    [network.input_name(k) for k in range(network.n_inputs)])

    global_core = cores.neuron_global_core
    used = np.unique(global_core)
    neuron_row = np.searchsorted(used, global_core)
    core_currents, core_spread = core_average(neuron_currents, neuron_row, len(used))
    cam_row = neuron_row[connections.target]
    base = np.zeros((len(used), N_BASE_WEIGHTS))
    masks = np.zeros(len(cam_row), dtype=np.int64)
    for row in range(len(used)):
        on_core = cam_row == row
        base[row], masks[on_core] = quantize_weights(np.abs(connections.weight[on_core]))
    quantized = np.sign(connections.weight) * np.sum(MASK_BITS[masks] * base[cam_row], axis=1)

    config = ChipConfig(
        neuron_population=network.population, neuron_node_id=network.node_id,
        neuron_kind=network.kind, neuron_chip=cores.neuron_chip, neuron_core=cores.neuron_core,
        neuron_address=cores.neuron_address, neuron_tag=routing.neuron_tag,
        neuron_parameters=p.as_matrix(),
        core_chip=used // CORES_PER_CHIP, core_index=used % CORES_PER_CHIP,
        core_currents=core_currents,
        core_spread=core_spread, core_base_weights=base * I_SCALE,
        cam_neuron=connections.target, cam_slot=routing.cam_slot,
        cam_dendrite=routing.cam_dendrite, cam_mask=masks, cam_tag=routing.cam_tag,
        cam_source=connections.source, cam_source_is_input=connections.from_input,
        cam_weight=connections.weight, cam_weight_quantized=quantized,
        dest_neuron=routing.dest_neuron, dest_slot=routing.dest_slot, dest_chip=routing.dest_chip,
        dest_core_mask=routing.dest_core_mask, dest_x_hop=routing.dest_x_hop,
        dest_y_hop=routing.dest_y_hop, dest_tag=routing.dest_tag,
        dest_monitor=routing.dest_monitor, input_population=network.input_population,
        input_node_id=network.input_node_id, input_tag=routing.input_tag,
        input_dest_channel=routing.input_dest_channel, input_dest_chip=routing.input_dest_chip,
        input_dest_core_mask=routing.input_dest_core_mask,
        input_dest_tag=routing.input_dest_tag, chip_position=cores.chip_position,
        mv_per_unit=float("nan") if network.mv_per_unit is None else float(network.mv_per_unit),
        n_edges=connections.n_edges)
    notes = network.notes + cores.notes
    if currents == "rockpool":
        notes += ("currents: Rockpool's conversion (Ispkthr = threshold x 10 nA, "
                  "Igain_syn = 100 Itau_syn): the chip's rates are not the LIF's",)
    return config, notes
