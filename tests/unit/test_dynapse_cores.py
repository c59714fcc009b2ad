"""Core assignment: 256 neurons per core, populations and similar parameters together."""

import json

import numpy as np
import pytest

from neurodamus.export.dynapse.cores import assign_cores, read_cores_file
from neurodamus.export.dynapse.errors import (
    CoreCapacityError,
    ExportConfigError,
    NetworkTooBigError,
)
from neurodamus.export.dynapse.parameters import lif_to_currents


def currents(n, tau_mem=20.0, bias=0.0):
    return lif_to_currents(np.full(n, tau_mem), 5.0, 1.0, bias)


def cores_used(assignment):
    return len(np.unique(assignment.neuron_global_core))


def test_exactly_256_neurons_fit_one_core():
    assignment = assign_cores(np.full(256, "exc"), currents(256))
    assert cores_used(assignment) == 1
    assert sorted(assignment.neuron_address) == list(range(256))


def test_257_neurons_need_two_cores():
    assignment = assign_cores(np.full(257, "exc"), currents(257))
    assert cores_used(assignment) == 2
    assert np.bincount(assignment.neuron_global_core).max() <= 256


def test_populations_get_their_own_cores():
    population = np.array(["exc"] * 10 + ["inh"] * 10)
    assignment = assign_cores(population, currents(20))
    core = assignment.neuron_global_core
    assert set(core[:10]).isdisjoint(core[10:])


def test_a_core_with_a_wide_spread_is_split_while_the_chip_has_free_cores():
    tau = np.array([10.0] * 5 + [30.0] * 5)
    assignment = assign_cores(np.full(10, "exc"), lif_to_currents(tau, 5.0, 1.0, 0.0))
    core = assignment.neuron_global_core
    assert len(set(core[:5])) == 1 and len(set(core[5:])) == 1 and core[0] != core[5]
    assert set(assignment.neuron_chip) == {0}


def test_more_than_4_chips_of_neurons_is_too_big():
    with pytest.raises(NetworkTooBigError, match="4097 neurons.*4096 fit.*over by 1") as caught:
        assign_cores(np.full(4097, "exc"), currents(4097))
    assert caught.value.excess == 1


def test_many_small_populations_share_cores_rather_than_fail():
    population = np.array([f"p{i:02d}" for i in range(20)])
    assignment = assign_cores(population, currents(20))
    assert cores_used(assignment) == 1
    assert any("share cores" in note for note in assignment.notes)


def write_cores(path, cores, **extra):
    path.write_text(json.dumps({"cores": cores, **extra}))
    return path


def test_cores_file_assigns_addresses_in_listed_order(tmp_path):
    population, node_id = np.array(["exc"] * 3 + ["inh"] * 2), np.array([0, 1, 2, 0, 1])
    path = write_cores(tmp_path / "cores.json", [
        {"chip": 1, "core": 2, "population": "exc", "node_ids": [2, 0, 1]},
        {"chip": 1, "core": 2, "population": "inh", "node_ids": [1]},
        {"chip": 0, "core": 0, "population": "inh", "node_ids": [0]}])
    assignment = read_cores_file(path, population, node_id)
    np.testing.assert_array_equal(assignment.neuron_chip, [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(assignment.neuron_address, [1, 2, 0, 0, 3])


def test_cores_file_with_257_neurons_on_a_core_names_core_and_excess(tmp_path):
    path = write_cores(tmp_path / "cores.json",
                       [{"chip": 0, "core": 3, "population": "exc", "node_ids": list(range(257))}])
    with pytest.raises(CoreCapacityError, match="chip 0 core 3 holds 257 neurons.*over by 1"):
        read_cores_file(path, np.full(257, "exc"), np.arange(257))


@pytest.mark.parametrize("cores, message", [
    ([{"chip": 4, "core": 0, "population": "exc", "node_ids": [0, 1]}], "chip 4, core 0"),
    ([{"chip": 0, "core": 0, "population": "exc", "node_ids": [0]}], "1 exported neuron"),
    ([{"chip": 0, "core": 0, "population": "exc", "node_ids": [0, 1, 1]}], "listed twice"),
    ([{"chip": 0, "core": 0, "population": "exc", "node_ids": [0, 1, 5]}], r"exc\[5\] is not"),
    ([{"chip": 0, "population": "exc"}], "needs chip, core"),
])
def test_cores_file_mistakes_name_the_entry(tmp_path, cores, message):
    path = write_cores(tmp_path / "cores.json", cores)
    with pytest.raises(ExportConfigError, match=message):
        read_cores_file(path, np.full(2, "exc"), np.arange(2))
