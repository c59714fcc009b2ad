"""One synapse between two cells of our templates: the postsynaptic conductance over a
presynaptic spike train equals the dual-exponential kernel scaled by the Tsodyks-Markram
release, both computed here independently of the mod file."""

import numpy as np
import pytest

from neurodamus.resources import hoc_dir

TAU_R_AMPA, TAU_D_AMPA, TAU_R_NMDA, TAU_D_NMDA, NMDA_RATIO = 0.2, 1.7, 0.29, 43.0, 0.71
USE, DEP, FAC, WEIGHT_NS, DELAY, DT = 0.3, 150.0, 60.0, 1.5, 2.0, 0.025


def tsodyks_markram_release(arrivals, use, dep, fac):
    """Expected release u*R at each arrival (u relaxes to 0 with fac, R recovers to 1 with dep)."""
    u, r, last, released = 0.0, 1.0, None, []
    for t in arrivals:
        if last is not None:
            u = u * np.exp(-(t - last) / fac) if fac > 0 else 0.0
            r = 1 - (1 - r) * np.exp(-(t - last) / dep)
        u = u + use * (1 - u)
        released.append(u * r)
        r -= u * r
        last = t
    return np.array(released)


def dual_exponential(times, arrivals, amplitudes, tau_r, tau_d):
    """Sum of kernels, each peaking at its amplitude."""
    t_peak = tau_r * tau_d / (tau_d - tau_r) * np.log(tau_d / tau_r)
    norm = 1 / (np.exp(-t_peak / tau_d) - np.exp(-t_peak / tau_r))
    since = times[:, None] - arrivals[None, :]
    kernel = np.where(since >= 0, np.exp(-np.maximum(since, 0) / tau_d)
                      - np.exp(-np.maximum(since, 0) / tau_r), 0.0)
    return norm * kernel @ amplitudes


@pytest.fixture(scope="module")
def two_cell_run(mechanisms_library, tmp_path_factory):
    from neuron import h

    from neurodamus.mechanisms import load_mechanisms
    from neurodamus.testing.morphologies import write_pyramidal

    load_mechanisms(h, mechanisms_library)
    h.load_file("stdrun.hoc")
    h.load_file(str(hoc_dir() / "nd_morphology.hoc"))
    h.load_file(str(hoc_dir() / "NdExcCell.hoc"))
    directory = tmp_path_factory.mktemp("morph")
    write_pyramidal(directory / "pyr.swc", np.random.default_rng(0))
    pre, post = (h.NdExcCell(gid, str(directory), "pyr.swc") for gid in (0, 1))
    drive = h.IClamp(pre.soma[0](0.5))
    drive.delay, drive.dur, drive.amp = 5.0, 250.0, 0.5
    clamp = h.SEClamp(post.soma[0](0.5))  # sweep the NMDA block: -80, -20, +20 mV
    clamp.dur1, clamp.amp1, clamp.dur2, clamp.amp2, clamp.dur3, clamp.amp3 = (
        100, -80, 100, -20, 100, 20)
    synapse = h.NdTmExc(post.soma[0](0.5))
    synapse.Use, synapse.Dep, synapse.Fac = USE, DEP, FAC
    h.deterministic_NdTmExc = 1  # expected values: the TM recurrence exactly
    netcon = h.NetCon(pre.soma[0](0.5)._ref_v, synapse, sec=pre.soma[0])
    netcon.threshold, netcon.delay, netcon.weight[0] = -20, DELAY, WEIGHT_NS
    spikes = h.Vector()
    netcon.record(spikes)
    t = h.Vector().record(h._ref_t)
    g_ampa = h.Vector().record(synapse._ref_g_AMPA)
    g_nmda = h.Vector().record(synapse._ref_g_NMDA)
    block = h.Vector().record(synapse._ref_mgblock)
    v = h.Vector().record(post.soma[0](0.5)._ref_v)
    h.celsius, h.dt = 6.3, DT
    h.finitialize(-65)
    h.continuerun(300)
    return {name: np.array(vec) for name, vec in dict(
        spikes=spikes, t=t, g_ampa=g_ampa, g_nmda=g_nmda, block=block, v=v).items()}


def lagged(recorded):
    """Assigned variables (g, mgblock) are computed in BREAKPOINT from the state at the start
    of a step; the value recorded at t[i] is therefore the one of t[i-1]."""
    return recorded[1:]


def delivery_times(spikes):
    """Fixed-step NEURON delivers an event at the first step boundary at or after it is due:
    the conductance jump is applied on that step (checked in the test by the residual)."""
    arrivals = spikes + DELAY
    return np.ceil(arrivals / DT - 1e-6) * DT


def test_ampa_conductance_follows_tm_and_dual_exponential(two_cell_run):
    run = two_cell_run
    assert run["spikes"].size >= 8  # a train that depresses and facilitates
    arrivals = delivery_times(run["spikes"])
    release = tsodyks_markram_release(arrivals, USE, DEP, FAC)
    expected = dual_exponential(run["t"], arrivals, 0.001 * WEIGHT_NS * release,
                                TAU_R_AMPA, TAU_D_AMPA)
    peak = expected.max()
    # cnexp integrates these linear kinetics exactly, so only round-off separates them.
    np.testing.assert_allclose(lagged(run["g_ampa"]), expected[:-1], rtol=0, atol=1e-9 * peak)
    # The train really exercises short-term plasticity: releases are not all equal.
    assert release.max() / release.min() > 1.2


def test_nmda_conductance_and_magnesium_block(two_cell_run):
    run = two_cell_run
    arrivals = delivery_times(run["spikes"])
    release = tsodyks_markram_release(arrivals, USE, DEP, FAC)
    unblocked = dual_exponential(run["t"], arrivals, 0.001 * WEIGHT_NS * NMDA_RATIO * release,
                                 TAU_R_NMDA, TAU_D_NMDA)
    block = 1 / (1 + np.exp(-0.062 * run["v"]) * (1.0 / 3.57))
    assert block.min() < 0.05 and block.max() > 0.7  # the voltage sweeps through the block
    np.testing.assert_allclose(lagged(run["block"]), block[:-1], rtol=1e-9)
    expected = unblocked[:-1] * block[:-1]
    np.testing.assert_allclose(lagged(run["g_nmda"]), expected, rtol=0, atol=1e-9 * expected.max())


def stochastic_releases(h, seed, n_synapses=1500, nrrp=3, interval=20.0, n_spikes=8):
    """Release fractions of many independent stochastic synapses on one regular train,
    sampled right after each event (t_last and last_release are set in NET_RECEIVE)."""
    from neurodamus.random.keys import Purpose, purpose_id

    section = h.Section(name="stochastic_host")
    train = h.NetStim()
    train.start, train.interval, train.number, train.noise = 5.0, interval, n_spikes, 0
    synapses, netcons, samples = [], [], []
    sample_times = h.Vector([5.0 + k * interval + 1.5 for k in range(n_spikes)])  # after arrival
    for index in range(n_synapses):
        synapse = h.NdTmExc(section(0.5))
        synapse.Use, synapse.Dep, synapse.Fac, synapse.Nrrp = USE, DEP, FAC, nrrp
        synapse.release_rng.set_ids(purpose_id(Purpose.SYNAPSE_RELEASE, seed), 7, index)
        synapse.release_rng.set_seq(0)
        netcon = h.NetCon(train, synapse)
        netcon.delay, netcon.weight[0] = 1.0, 0.0  # no conductance needed, only the release
        samples.append(h.Vector().record(synapse._ref_last_release, sample_times))
        synapses.append(synapse)
        netcons.append(netcon)
    h.deterministic_NdTmExc = 0
    h.dt = DT
    h.finitialize(-65)
    h.continuerun(5.0 + n_spikes * interval + 1)
    arrivals = 5.0 + np.arange(n_spikes) * interval + 1.0
    return np.array([np.array(v) for v in samples]), arrivals


def test_stochastic_release_matches_expectation_and_seeds(two_cell_run):
    from neuron import h

    releases, arrivals = stochastic_releases(h, seed=1)
    expected = tsodyks_markram_release(arrivals, USE, DEP, FAC)
    mean = releases.mean(axis=0)
    standard_error = releases.std(axis=0, ddof=1) / np.sqrt(releases.shape[0])
    # Each synapse is an independent trial: the mean release is within 5 standard errors of
    # the expected value (a false failure has probability below 1e-5 per spike).
    assert np.all(np.abs(mean - expected) < 5 * standard_error), (mean, expected)
    assert np.all(standard_error > 0)  # really stochastic
    # Releases are multiples of 1/Nrrp (whole vesicles).
    np.testing.assert_allclose(releases * 3, np.round(releases * 3), atol=1e-12)
    again, _ = stochastic_releases(h, seed=1, n_synapses=50)
    np.testing.assert_array_equal(again, releases[:50])  # same seed, same releases
    other, _ = stochastic_releases(h, seed=2, n_synapses=50)
    assert not np.array_equal(other, releases[:50])


def test_minis_are_poisson_at_the_requested_rate(two_cell_run):
    """Spontaneous releases: counts over many synapses match rate x time (Poisson: the
    standard deviation of a count N is sqrt(N), bound 5 sd), and the inter-event intervals
    have the exponential's coefficient of variation 1."""
    from neuron import h

    from neurodamus.random.keys import Purpose, purpose_id

    rate, duration, n_synapses = 20.0, 1000.0, 200
    section = h.Section(name="minis_host")
    synapses, records = [], []
    for index in range(n_synapses):
        synapse = h.NdTmExc(section(0.5))
        synapse.minis_rate, synapse.minis_weight = rate, 0.0
        synapse.minis_rng.set_ids(purpose_id(Purpose.MINIS, 3), 11, index)
        synapse.minis_rng.set_seq(0)
        records.append(h.Vector().record(synapse._ref_t_last))
        synapses.append(synapse)
    h.dt = DT
    h.finitialize(-65)
    h.continuerun(duration)
    counts: list[int] = []
    intervals: list[float] = []
    for record in records:
        times = np.unique(np.array(record))
        times = times[times > 0]
        counts.append(times.size)
        intervals.extend(np.diff(times))
    expected = rate * duration / 1000 * n_synapses
    assert abs(sum(counts) - expected) < 5 * np.sqrt(expected)
    spread = np.array(intervals)
    assert abs(spread.std() / spread.mean() - 1) < 0.05  # 3800 intervals: sd of CV ~0.016
