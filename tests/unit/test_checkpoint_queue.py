"""What BBSaveState would abort on is found before it runs (checkpoint.queue_problems), and the
run windows end where run.window_end says (replay queues up to there). In-process NEURON,
built-in mechanisms only."""

import pytest

from neurodamus.checkpoint import queue_problems
from neurodamus.run import window_end

GID = 900001  # far from any gid another in-process test registers


@pytest.fixture(scope="module")
def model():
    from neuron import h

    h.load_file("stdrun.hoc")
    pc = h.ParallelContext()
    section = h.Section(name="queue_test")
    section.insert("pas")
    detector = h.NetCon(section(0.5)._ref_v, None, sec=section)
    pc.set_gid2node(GID, pc.id())
    pc.cell(GID, detector)
    synapse = h.ExpSyn(section(0.5))
    from_gid = pc.gid_connect(GID, synapse)
    from_gid.delay = 1.0
    sourceless = h.NetCon(None, synapse)
    return h, pc, section, synapse, from_gid, sourceless


def test_clean_queue_has_no_problem(model):
    h = model[0]
    h.dt = 0.025
    h.finitialize(-65)
    assert queue_problems(h) == []


def test_two_spikes_of_one_source_under_0_1_ms_apart_are_named(model):
    h, _, _, _, from_gid, _ = model
    h.finitialize(-65)
    from_gid.event(5.0)
    from_gid.event(5.0)  # the same spike time twice: BBSaveState counts it, no problem
    assert queue_problems(h) == []
    from_gid.event(5.05)
    problems = queue_problems(h)
    assert len(problems) == 1 and f"gid {GID}" in problems[0] and "0.1 ms" in problems[0]


def test_events_of_sourceless_netcons_and_pending_replay_are_named(model):
    h, _, _, _, _, sourceless = model
    h.finitialize(-65)
    sourceless.event(3.0)
    problems = queue_problems(h, pending_replay=4)
    assert problems[0].startswith("4 replayed spike events")
    assert "1 events on NetCons without a source" in problems[1]


@pytest.mark.parametrize("stops", [(1.0, 10.0, 25.0, 100.0, 100.1, 175.025, 300.0)])
def test_window_end_is_the_time_neuron_reaches(model, stops):
    h, pc = model[0], model[1]
    h.dt = 0.025
    pc.set_maxstep(10)
    h.finitialize(-65)
    for stop in stops:
        expected = window_end(h.t, stop, h.dt)
        pc.psolve(stop)
        assert h.t == expected  # bit-equal (100 ms reads 100.00000000001417)
