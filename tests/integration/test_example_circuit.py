"""The bundled example circuit end to end on 1 and 2 real MPI ranks."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ok, run_mpi_script, run_neurodamus

from neurodamus.plots.activity import electrical_pairs, pair_synchrony, run_activity
from neurodamus.plots.outputs import read_spikes
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


def activity_problems(output_dir, tstop) -> list[str]:
    """What makes the example's activity unlike cortex: a population silent for more than
    100 ms, clock-like excitatory firing (median CV of the inter-spike intervals below 0.5),
    inhibitory cells no faster than excitatory ones."""
    found = {a.name: a for a in run_activity(output_dir, tstop)}
    problems = [f"{name} silent for {a.longest_silence_ms:.0f} ms"
                for name, a in found.items() if a.longest_silence_ms > 100.0]
    if not found["exc"].cv_isi >= 0.5:
        problems.append(f"exc fires like a clock: CV of ISIs {found['exc'].cv_isi:.2f}")
    if not found["inh"].rate_hz > found["exc"].rate_hz:
        problems.append(f"inh ({found['inh'].rate_hz:.1f} Hz) no faster than exc "
                        f"({found['exc'].rate_hz:.1f} Hz)")
    return problems


def test_both_populations_stay_active_and_fire_irregularly(example_runs, example_dir):
    """The example must look like cortex for its whole run (issue 29: its 12 inhibitory
    cells used to fall silent after 200 ms and its excitatory cells fired like clocks)."""
    tstop = json.loads((example_dir / "simulation_config.json").read_text())["run"]["tstop"]
    assert activity_problems(example_runs[0], tstop) == []


def test_gap_junctions_synchronise_the_inhibitory_cells_they_couple(example_runs, example_dir):
    """Coupled inh pairs fire within 3 ms of each other far more often than other pairs
    (about 70 % against 40 % here; with their conductance set to 0, both are below 20 %)."""
    pairs = electrical_pairs(example_dir / "edges_inh__inh__electrical.h5")["inh"]
    inh = next(p for p in read_spikes(example_runs[0]) if p.name == "inh")
    coupled, others = pair_synchrony(inh, pairs, cells=12)
    assert coupled > others + 0.15


def test_soma_voltage_and_synaptic_current_reports(example_runs):
    """Both reports hold the 6 traced cells over the whole run; the soma traces spike."""
    import libsonata

    soma = libsonata.ElementReportReader(str(example_runs[0] / "soma_v.h5"))
    currents = libsonata.ElementReportReader(str(example_runs[0] / "synaptic_current.h5"))
    for reader in (soma, currents):
        assert sorted(reader.get_population_names()) == ["exc", "inh"]
        for population in ("exc", "inh"):
            assert sorted(reader[population].get_node_ids()) == [0, 1, 2]
    frames = soma["inh"].get()
    assert len(frames.times) == 10000 and np.asarray(frames.data).max() > 0.0


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
