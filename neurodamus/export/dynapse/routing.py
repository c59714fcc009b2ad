"""Synapses and routes on the chip: CAM entries, routing tags, destinations, input and output maps.

* Edges with the same source and target are merged into one CAM entry (weights summed), since
  a neuron has only 64 CAM slots; positive sums go to AMPA, negative ones to GABA.
* A neuron has 4 destinations (SRAM): slot 0 is its monitor route, the other 3 reach one
  target chip each (a core mask selects the cores there). Hops are target minus source chip
  position on the board grid, at most 7 each way.
* The monitor route is the destination Dynap-SE2 boards expect for spikes meant for the host,
  the one Rockpool's allocator writes (WeightAllocator.SRAM_content): core mask 0b1111 and hops
  (-7, -7). Those hops lead off the chip grid, where the FPGA catches the event; no chip's CAM
  ever sees it.
* Tags: the CAM of a receiving neuron matches the 11-bit tag only, so every source arriving
  at a chip needs a tag of its own on that chip. Each input channel gets one tag, valid on
  every chip it feeds; each neuron one tag, valid on its own chip and every chip it feeds.
  A chip therefore needs: its input channels + its neurons + the neurons of other chips
  sending to it, at most 2048. The monitor route carries the neuron's own tag (no CAM compares
  it, so it needs no tag of its own), and the host recognises the neuron by (chip, tag) -- the
  output map. Rockpool tags its monitor events with the neuron's index instead and reserves a
  second tag per neuron (n_inputs + 2·n_neurons <= 2048), which leaves a full chip of 1024
  neurons no tag for any input.
"""

from dataclasses import dataclass

import numpy as np

from .cores import MAX_CHIPS, CoreAssignment
from .errors import FanOutError, HopOutOfRangeError, TagsExhaustedError, TooManyInputsError

CAM_SLOTS = 64
DESTINATIONS = 4
MONITOR_SLOT = 0
MONITOR_CORE_MASK = 0b1111           # the host route: every core bit set ...
MONITOR_HOPS = (-7, -7)               # ... and hops off the grid, to the FPGA
TAGS_PER_CHIP = 2048
MAX_HOP = 7
DENDRITE_CODES = {"AMPA": 1024, "GABA": 512, "NMDA": 256, "SHUNT": 128}


@dataclass(frozen=True)
class Connections:
    """One entry per (source, target) pair, edges merged; sorted by target, inputs first."""

    source: np.ndarray
    from_input: np.ndarray
    target: np.ndarray
    weight: np.ndarray          # dimensionless, signed, non-zero
    n_edges: int                # SONATA edges before merging


def merge_connections(source, from_input, target, weight) -> Connections:
    """Sum the weights of edges sharing source and target; drop pairs that sum to zero."""
    source, target = np.asarray(source, np.int64), np.asarray(target, np.int64)
    from_input, weight = np.asarray(from_input, bool), np.asarray(weight, float)
    keys = np.column_stack([target, ~from_input, source])
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    total = np.zeros(len(unique))
    np.add.at(total, inverse.ravel(), weight)
    keep = total != 0
    return Connections(unique[keep, 2], ~unique[keep, 1].astype(bool), unique[keep, 0],
                       total[keep], len(weight))


def check_cam_capacity(target: np.ndarray, neuron_names) -> None:
    """Raise TooManyInputsError for the neuron with the most sources, if over 64."""
    counts = np.bincount(target, minlength=len(neuron_names))
    over = np.flatnonzero(counts > CAM_SLOTS)
    if over.size:
        worst = int(over[np.argmax(counts[over])])
        others = f"; {over.size - 1} more neuron(s) over the limit" if over.size > 1 else ""
        raise TooManyInputsError(
            f"neuron {neuron_names[worst]} has {counts[worst]} presynaptic sources (inputs and "
            f"neurons; edges from one source count once); a neuron has {CAM_SLOTS} CAM slots "
            f"(over by {counts[worst] - CAM_SLOTS}){others}", excess=int(counts[worst] - CAM_SLOTS))


def rank_within(owner: np.ndarray) -> np.ndarray:
    """Each row's rank among the rows of the same owner, in row order (a CAM or SRAM slot)."""
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    ranks = np.empty(len(owner), dtype=np.int64)
    ranks[order] = np.arange(len(owner)) - np.searchsorted(sorted_owner, sorted_owner)
    return ranks


def destinations_by_chip(source: np.ndarray, target_chip: np.ndarray, target_core: np.ndarray):
    """(source, chip, 4-bit core mask) per distinct source and target chip, sorted."""
    key = source * MAX_CHIPS + target_chip
    order = np.argsort(key, kind="stable")
    unique, start = np.unique(key[order], return_index=True)
    if not len(unique):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    masks = np.bitwise_or.reduceat(np.left_shift(1, target_core[order]), start)
    return unique // MAX_CHIPS, unique % MAX_CHIPS, masks.astype(np.int64)


def check_fan_out(dest_source: np.ndarray, own_chip: np.ndarray, dest_chip: np.ndarray,
                  neuron_names) -> None:
    counts = np.bincount(dest_source, minlength=len(neuron_names))
    free = DESTINATIONS - 1
    over = np.flatnonzero(counts > free)
    if over.size:
        worst = int(over[np.argmax(counts[over])])
        chips = ", ".join(str(c) for c in dest_chip[dest_source == worst])
        others = f"; {over.size - 1} more neuron(s) over the limit" if over.size > 1 else ""
        raise FanOutError(
            f"neuron {neuron_names[worst]} on chip {own_chip[worst]} sends to {counts[worst]} "
            f"chips ({chips}); a neuron has {free} destinations besides its monitor route "
            f"(over by {counts[worst] - free}){others}", excess=int(counts[worst] - free))


def hops(chip_position: np.ndarray, source: np.ndarray, source_chip: np.ndarray,
         target_chip: np.ndarray, neuron_names) -> tuple[np.ndarray, np.ndarray]:
    """x and y hops of each route (from neuron `source` on `source_chip`); error beyond ±7."""
    delta = chip_position[target_chip] - chip_position[source_chip]
    bad = np.flatnonzero(np.abs(delta).max(axis=1, initial=0) > MAX_HOP)
    if bad.size:
        i = int(bad[0])
        axis = int(np.argmax(np.abs(delta[i])))
        hop = int(delta[i, axis])
        (x0, y0), (x1, y1) = chip_position[source_chip[i]], chip_position[target_chip[i]]
        raise HopOutOfRangeError(
            f"neuron {neuron_names[source[i]]} on chip {source_chip[i]} at ({x0}, {y0}) -> "
            f"chip {target_chip[i]} at ({x1}, {y1}): {'xy'[axis]} hop {hop} is beyond "
            f"±{MAX_HOP} (over by {abs(hop) - MAX_HOP})", excess=abs(hop) - MAX_HOP)
    return delta[:, 0], delta[:, 1]


def _chip_sets(owner_count: int, owner: np.ndarray, chip: np.ndarray) -> np.ndarray:
    """[owner_count, MAX_CHIPS] bool: which chips each owner needs a tag on."""
    needs = np.zeros((owner_count, MAX_CHIPS), dtype=bool)
    needs[owner, chip] = True
    return needs


def check_tag_demand(input_needs: np.ndarray, recurrent_needs: np.ndarray,
                     neuron_chip: np.ndarray) -> None:
    """TagsExhaustedError where a chip's sources need more than 2048 tags."""
    own = np.bincount(neuron_chip, minlength=MAX_CHIPS)
    inputs = input_needs.sum(axis=0)
    recurrent = recurrent_needs.sum(axis=0)           # own neurons and other chips' senders
    demand = inputs + recurrent
    over = np.flatnonzero(demand > TAGS_PER_CHIP)
    if over.size:
        chip = over[0]
        raise TagsExhaustedError(
            f"chip {chip} needs {demand[chip]} routing tags ({inputs[chip]} input channels, "
            f"{own[chip]} neurons of its own, {recurrent[chip] - own[chip]} neurons of other "
            f"chips sending to it); a chip has {TAGS_PER_CHIP} "
            f"(over by {demand[chip] - TAGS_PER_CHIP})", excess=int(demand[chip] - TAGS_PER_CHIP))


def allocate_tags(needs: np.ndarray, names) -> np.ndarray:
    """The lowest tag free on every chip each source needs, sources in the order given."""
    used = np.zeros((MAX_CHIPS, TAGS_PER_CHIP), dtype=bool)
    tags = np.empty(len(needs), dtype=np.int64)
    for n, chips in enumerate(needs):
        free = ~used[chips].any(axis=0)
        tag = int(np.argmax(free))
        if not free[tag]:
            listed = ", ".join(str(c) for c in np.flatnonzero(chips))
            raise TagsExhaustedError(f"{names[n]}: no tag is free on all of chips {listed} "
                                     f"({TAGS_PER_CHIP} tags each)", excess=1)
        used[chips, tag] = True
        tags[n] = tag
    return tags


@dataclass(frozen=True)
class Routing:
    neuron_tag: np.ndarray
    input_tag: np.ndarray
    cam_slot: np.ndarray
    cam_dendrite: np.ndarray
    cam_tag: np.ndarray
    dest_neuron: np.ndarray
    dest_slot: np.ndarray
    dest_chip: np.ndarray
    dest_core_mask: np.ndarray
    dest_x_hop: np.ndarray
    dest_y_hop: np.ndarray
    dest_tag: np.ndarray
    dest_monitor: np.ndarray
    input_dest_channel: np.ndarray
    input_dest_chip: np.ndarray
    input_dest_core_mask: np.ndarray
    input_dest_tag: np.ndarray


def route(connections: Connections, cores: CoreAssignment, n_inputs: int,
          neuron_names, input_names) -> Routing:
    """CAM slots, tags and destinations for the merged connections; checks every limit."""
    n_neurons = len(neuron_names)
    c = connections
    check_cam_capacity(c.target, neuron_names)
    chip, core = cores.neuron_chip, cores.neuron_core
    recurrent = ~c.from_input
    dest_source, dest_chip, dest_mask = destinations_by_chip(
        c.source[recurrent], chip[c.target[recurrent]], core[c.target[recurrent]])
    check_fan_out(dest_source, chip, dest_chip, neuron_names)
    x_hop, y_hop = hops(cores.chip_position, dest_source, chip[dest_source], dest_chip,
                        neuron_names)
    in_channel, in_chip, in_mask = destinations_by_chip(
        c.source[c.from_input], chip[c.target[c.from_input]], core[c.target[c.from_input]])

    input_needs = _chip_sets(n_inputs, in_channel, in_chip)
    recurrent_needs = _chip_sets(n_neurons, dest_source, dest_chip)
    recurrent_needs[np.arange(n_neurons), chip] = True
    check_tag_demand(input_needs, recurrent_needs, chip)
    source_names = [f"input {n}" for n in input_names] + [f"neuron {n}" for n in neuron_names]
    tags = allocate_tags(np.concatenate([input_needs, recurrent_needs]), source_names)
    input_tag, neuron_tag = tags[:n_inputs], tags[n_inputs:]

    # Destinations: the monitor route in slot 0, then one per target chip.
    zeros = np.zeros(n_neurons, dtype=np.int64)
    monitor = {"neuron": np.arange(n_neurons), "slot": zeros + MONITOR_SLOT, "chip": chip,
               "core_mask": zeros + MONITOR_CORE_MASK, "x_hop": zeros + MONITOR_HOPS[0],
               "y_hop": zeros + MONITOR_HOPS[1], "tag": neuron_tag,
               "monitor": np.ones(n_neurons, bool)}
    routes = {"neuron": dest_source, "slot": 1 + rank_within(dest_source), "chip": dest_chip,
              "core_mask": dest_mask, "x_hop": x_hop, "y_hop": y_hop,
              "tag": neuron_tag[dest_source], "monitor": np.zeros(len(dest_source), bool)}
    dest = {key: np.concatenate([monitor[key], routes[key]]) for key in monitor}
    order = np.lexsort((dest["slot"], dest["neuron"]))
    cam_tag = np.empty(len(c.target), dtype=np.int64)
    cam_tag[c.from_input] = input_tag[c.source[c.from_input]]
    cam_tag[recurrent] = neuron_tag[c.source[recurrent]]
    return Routing(
        neuron_tag=neuron_tag, input_tag=input_tag, cam_slot=rank_within(c.target),
        cam_dendrite=np.where(c.weight > 0, DENDRITE_CODES["AMPA"], DENDRITE_CODES["GABA"]),
        cam_tag=cam_tag, **{f"dest_{key}": value[order] for key, value in dest.items()},
        input_dest_channel=in_channel, input_dest_chip=in_chip, input_dest_core_mask=in_mask,
        input_dest_tag=input_tag[in_channel])
