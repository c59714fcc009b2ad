"""CAM entries, tags and destinations, and the named error of each routing limit."""

import numpy as np
import pytest

from neurodamus.export.dynapse.cores import DEFAULT_CHIP_POSITIONS, CoreAssignment
from neurodamus.export.dynapse.errors import (
    FanOutError,
    HopOutOfRangeError,
    TagsExhaustedError,
    TooManyInputsError,
)
from neurodamus.export.dynapse.routing import DENDRITE_CODES, merge_connections, route


def layout(chips, cores=None, positions=DEFAULT_CHIP_POSITIONS):
    chips = np.asarray(chips)
    cores = np.zeros(len(chips), dtype=np.int64) if cores is None else np.asarray(cores)
    address = np.zeros(len(chips), dtype=np.int64)
    for key in np.unique(chips * 4 + cores):
        on_core = chips * 4 + cores == key
        address[on_core] = np.arange(on_core.sum())
    return CoreAssignment(chips, cores, address, np.array(positions))


def connections(source, target, from_input=None, weight=None):
    source = np.asarray(source)
    return merge_connections(
        source, np.zeros(len(source), bool) if from_input is None else np.asarray(from_input),
        np.asarray(target), np.ones(len(source)) if weight is None else np.asarray(weight))


def names(n, prefix="exc"):
    return [f"{prefix}[{i}]" for i in range(n)]


def test_edges_between_the_same_pair_merge_and_the_sign_picks_the_dendrite():
    merged = merge_connections([0, 0, 1, 2, 2], [False, False, False, True, True],
                               [3, 3, 3, 3, 3], [0.5, 0.25, -0.5, 0.4, -0.4])
    assert merged.n_edges == 5
    # input 2 -> 3 sums to zero and is dropped; inputs come first on a target.
    np.testing.assert_array_equal(merged.source, [0, 1])
    np.testing.assert_allclose(merged.weight, [0.75, -0.5])
    routing = route(merged, layout([0] * 4), 3, names(4), names(3, "in"))
    np.testing.assert_array_equal(routing.cam_dendrite,
                                  [DENDRITE_CODES["AMPA"], DENDRITE_CODES["GABA"]])
    np.testing.assert_array_equal(routing.cam_slot, [0, 1])


def test_64_inputs_fit_and_65_name_the_neuron_and_excess():
    route(connections(np.arange(64), np.zeros(64, int), np.ones(64, bool)), layout([0]), 64,
          names(1), names(64, "in"))
    with pytest.raises(TooManyInputsError, match=r"exc\[0\] has 65 .* 64 CAM slots \(over by 1\)"):
        route(connections(np.arange(65), np.zeros(65, int), np.ones(65, bool)), layout([0]), 65,
              names(1), names(65, "in"))


def test_three_target_chips_fit_and_four_are_too_many():
    cores = layout([0, 1, 2, 3])
    routing = route(connections([0, 0, 0], [1, 2, 3]), cores, 0, names(4), [])
    sent = routing.dest_neuron == 0
    np.testing.assert_array_equal(routing.dest_chip[sent], [0, 1, 2, 3])   # monitor, then chips
    np.testing.assert_array_equal(routing.dest_monitor[sent], [True, False, False, False])
    with pytest.raises(FanOutError, match=r"exc\[0\] on chip 0 sends to 4 chips .*over by 1"):
        route(connections([0, 0, 0, 0], [0, 1, 2, 3]), cores, 0, names(4), [])


def test_core_mask_covers_every_target_core_on_a_chip():
    cores = layout([0, 0, 0, 1], cores=[0, 1, 3, 2])
    routing = route(connections([0, 0, 0], [1, 2, 3]), cores, 0, names(4), [])
    recurrent = (routing.dest_neuron == 0) & ~routing.dest_monitor
    np.testing.assert_array_equal(routing.dest_chip[recurrent], [0, 1])
    np.testing.assert_array_equal(routing.dest_core_mask[recurrent], [0b1010, 0b0100])
    np.testing.assert_array_equal(routing.dest_x_hop[recurrent], [0, 1])


def test_hop_out_of_range_names_the_route_and_excess():
    far = [(0, 0), (9, 0), (0, 1), (1, 1)]
    with pytest.raises(HopOutOfRangeError, match=r"exc\[0\] on chip 0 at \(0, 0\) -> chip 1 at "
                       r"\(9, 0\): x hop 9 is beyond ±7 \(over by 2\)"):
        route(connections([0], [1]), layout([0, 1], positions=far), 0, names(2), [])


def test_tags_are_unique_among_the_sources_reaching_a_chip():
    n = 40
    rng = np.random.default_rng(1)
    source, target = rng.integers(0, n, 120), rng.integers(0, n, 120)
    inputs = rng.integers(0, 10, 30)
    c = connections(np.concatenate([source, inputs]),
                    np.concatenate([target, rng.integers(0, n, 30)]),
                    np.concatenate([np.zeros(120, bool), np.ones(30, bool)]))
    cores = layout(rng.integers(0, 2, n))
    routing = route(c, cores, 10, names(n), names(10, "in"))
    for chip in range(2):
        arriving = {("in", k) for k in routing.input_dest_channel[routing.input_dest_chip == chip]}
        arriving |= {("n", i) for i in routing.dest_neuron[(routing.dest_chip == chip)
                                                          & ~routing.dest_monitor]}
        arriving |= {("n", i) for i in np.flatnonzero(cores.neuron_chip == chip)}
        tags = [routing.input_tag[k] if kind == "in" else routing.neuron_tag[k]
                for kind, k in arriving]
        assert len(tags) == len(set(tags))
    # Each CAM entry listens for its source's tag.
    expected = np.where(c.from_input, routing.input_tag[np.minimum(c.source, 9)],
                        routing.neuron_tag[c.source])
    np.testing.assert_array_equal(routing.cam_tag, expected)


def test_a_full_chip_still_has_tags_for_1024_inputs():
    n, n_inputs = 1024, 1024
    c = connections(np.arange(n_inputs), np.arange(n), np.ones(n_inputs, bool))
    cores = layout(np.zeros(n, int), cores=np.arange(n) // 256)
    routing = route(c, cores, n_inputs, names(n), names(n_inputs, "in"))
    assert len(set(routing.input_tag) | set(routing.neuron_tag)) == 2048


def test_tags_exhausted_names_the_chip_and_excess():
    # 1000 neurons on chip 0, 1000 input channels and 100 neurons of chip 1 reach it: 52 too many.
    n_inputs = 1000
    chips = np.repeat([0, 1], [1000, 100])
    inputs = connections(np.arange(n_inputs), np.arange(n_inputs), np.ones(n_inputs, bool))
    senders = connections(1000 + np.arange(100), np.arange(100))
    c = merge_connections(np.concatenate([inputs.source, senders.source]),
                          np.concatenate([inputs.from_input, senders.from_input]),
                          np.concatenate([inputs.target, senders.target]),
                          np.ones(n_inputs + 100))
    cores = layout(chips, cores=np.concatenate([np.arange(1000) // 250, np.zeros(100, int)]))
    with pytest.raises(TagsExhaustedError, match="chip 0 needs 2100 routing tags "
                       r"\(1000 input channels, 1000 neurons of its own, 100 neurons of other "
                       r"chips.*over by 52") as caught:
        route(c, cores, n_inputs, names(1100), names(n_inputs, "in"))
    assert caught.value.excess == 52


def test_every_neuron_is_routed_to_the_host_like_rockpools_allocator():
    # Rockpool's WeightAllocator: the monitor destination is core mask 1111, hops (-7, -7).
    cores = layout([0, 0, 1, 1], cores=[0, 1, 0, 3])
    routing = route(connections([0, 1, 2], [2, 3, 0]), cores, 0, names(4), [])
    monitor = routing.dest_monitor
    np.testing.assert_array_equal(routing.dest_neuron[monitor], np.arange(4))
    np.testing.assert_array_equal(routing.dest_slot[monitor], 0)
    np.testing.assert_array_equal(routing.dest_core_mask[monitor], 0b1111)
    np.testing.assert_array_equal(routing.dest_x_hop[monitor], -7)
    np.testing.assert_array_equal(routing.dest_y_hop[monitor], -7)
    np.testing.assert_array_equal(routing.dest_tag[monitor], routing.neuron_tag)
    # The recurrent routes keep their own chips, masks and hops.
    recurrent = ~monitor
    np.testing.assert_array_equal(routing.dest_chip[recurrent], [1, 1, 0])
    np.testing.assert_array_equal(routing.dest_core_mask[recurrent], [0b0001, 0b1000, 0b0001])
    np.testing.assert_array_equal(np.abs(routing.dest_x_hop[recurrent]) <= 1, True)
