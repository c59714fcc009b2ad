"""The bundled example circuit end to end on 1 and 2 real MPI ranks."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ok, run_mpi_script, run_neurodamus

from neurodamus.reports import read_spikes_by_population

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

SCRIPT = Path(__file__).parent / "scripts" / "run_and_keep_recorded.py"


@pytest.fixture(scope="module")
def example_runs(example_dir):
    """The example on 1 rank (CLI) and on 2 ranks (Simulation API, keeping NEURON's records)."""
    config = example_dir / "simulation_config.json"
    one, two = example_dir / "out_1rank", example_dir / "out_2ranks"
    assert_ok(run_neurodamus([config, "--output-path", one, "--no-progress"], ranks=1))
    assert_ok(run_mpi_script(SCRIPT, [config, two], ranks=2))
    return one, two


def test_same_spikes_on_one_and_two_ranks(example_runs):
    one, two = (read_spikes_by_population(d / "out.h5") for d in example_runs)
    assert sorted(one) == sorted(two) == ["exc", "inh"]
    for population in one:
        times_1, ids_1 = one[population]
        times_2, ids_2 = two[population]
        assert times_1.size > 0
        np.testing.assert_array_equal(ids_1, ids_2)
        np.testing.assert_array_equal(times_1, times_2)  # exact, not approximately


def test_network_activity_is_spread(example_runs):
    """Most cells spike, and not all at once (the example must show network activity)."""
    spikes = read_spikes_by_population(example_runs[0] / "out.h5")
    active = sum(np.unique(ids).size for _, ids in spikes.values())
    all_times = np.concatenate([times for times, _ in spikes.values()])
    assert active >= 0.8 * 52
    assert np.unique(np.round(all_times)).size > 100


def test_every_cell_built_exactly_once_and_shared(example_runs):
    distribution = json.loads((example_runs[1] / "distribution.json").read_text())
    assert distribution["ranks"] == 2
    per_rank = distribution["gids_by_rank"]
    everything = np.concatenate([np.asarray(g, int) for g in per_rank])
    assert everything.size == np.unique(everything).size == 52  # 40 exc + 12 inh, no copies
    assert [len(g) for g in per_rank] == [26, 26]
    summary = json.loads((example_runs[1] / "run_summary.json").read_text())
    assert summary["ranks"] == 2 and summary["cells_per_rank"] == [26, 26]


def test_spike_file_equals_what_neuron_recorded(example_runs):
    output = example_runs[1]
    offsets = dict(line.split("::") for line in (output / "populations_offset.dat").read_text().split())
    parts = [np.load(output / f"recorded_rank{rank}.npz") for rank in (0, 1)]
    recorded_times = np.concatenate([data["times"] for data in parts])
    recorded_gids = np.concatenate([data["gids"] for data in parts])
    from_file = read_spikes_by_population(output / "out.h5")
    for population, (times, node_ids) in from_file.items():
        offset = int(offsets[population])
        gids = node_ids + offset
        mask = (recorded_gids >= offset) & (recorded_gids < offset + (40 if population == "exc" else 12))
        expected = sorted(zip(recorded_times[mask], recorded_gids[mask]))
        assert sorted(zip(times, gids)) == expected
        # SONATA by_time order: times ascending, ties by node id
        assert np.all(np.diff(times) >= 0)
