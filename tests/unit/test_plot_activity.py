"""The activity figures ci/example prints and the example's tests check: rates, CV of the
inter-spike intervals, fraction of cells active per window, longest silence; on spike
trains whose answers are known."""

import subprocess
import sys

import numpy as np
import pytest

from neurodamus.plots.activity import (
    active_fractions,
    coincidence,
    cv_of_intervals,
    longest_silence,
    pair_synchrony,
    population_activity,
)
from neurodamus.plots.outputs import PopulationSpikes


def test_clock_like_trains_have_cv_zero_and_poisson_trains_cv_near_one():
    clock = np.arange(5.0, 1000.0, 40.0)
    times = np.concatenate([clock, clock + 7.0])
    ids = np.repeat([0, 1], clock.size)
    cv, counted = cv_of_intervals(times, ids)
    assert cv == pytest.approx(0.0, abs=1e-9) and counted == 2
    rng = np.random.default_rng(3)
    poisson = np.cumsum(rng.exponential(10.0, 5000))
    cv, cells = cv_of_intervals(poisson, np.zeros(poisson.size, int))
    assert cells == 1 and cv == pytest.approx(1.0, abs=0.05)


def test_cells_with_too_few_intervals_give_no_cv():
    assert np.isnan(cv_of_intervals(np.array([1.0, 50.0, 90.0]), np.zeros(3, int))[0])


def test_active_fraction_per_window_and_longest_silence():
    times = np.array([10.0, 20.0, 150.0, 420.0])
    ids = np.array([0, 1, 0, 3])
    np.testing.assert_allclose(active_fractions(times, ids, 4, 500.0, 100.0),
                               [0.5, 0.25, 0.0, 0.0, 0.25])
    assert longest_silence(times, 500.0) == pytest.approx(270.0)
    assert longest_silence(np.array([]), 500.0) == 500.0  # a silent population: all of it


def test_rate_counts_silent_simulated_cells():
    spikes = PopulationSpikes("exc", np.array([100.0, 200.0, 300.0, 400.0]),
                              np.array([0, 0, 1, 1]), cells=8)
    activity = population_activity(spikes, tstop=500.0)
    assert activity.rate_hz == pytest.approx(4 / 8 / 0.5)
    assert activity.cells == 8 and activity.spikes == 4


def test_coincidence_and_the_synchrony_of_chosen_pairs():
    a = np.array([10.0, 50.0, 90.0, 130.0])
    assert coincidence(a, a + 2.0, 3.0) == 1.0
    assert coincidence(a, np.array([52.0, 200.0]), 3.0) == 0.25
    assert np.isnan(coincidence(a, np.array([]), 3.0))
    # cells 0 and 1 fire together, cell 2 at other times
    spikes = PopulationSpikes("inh", np.concatenate([a, a + 1.0, a + 20.0]),
                              np.repeat([0, 1, 2], a.size), cells=3)
    assert pair_synchrony(spikes, {(0, 1)}, 3) == (1.0, 0.0)


def test_a_missing_output_directory_is_one_error_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "neurodamus.plots.activity",
                             str(tmp_path / "absent"), "--tstop", "100"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"neurodamus: error: output directory {tmp_path / 'absent'} not found"]
