"""Live runs trained in a training process (explorer/training/processes.py): the run that comes back
is the run trained here, bit for bit; frames see the process's weights; live settings reach it; a
process that dies, or a run abandoned there, loses nothing else.

One pool of one process for the module (starting one imports torch: seconds), each start of it
warmed up with a throwaway run, shorter than the app's (WARM_UP_STEPS); each test its own Turns."""
import os
import time

import pytest
import torch

from explorer.config.options import resolve
from explorer.training.live import LiveSession
from explorer.training import processes as processes_module
from explorer.training.processes import WARM_UP_KEY, TrainingProcesses, serialise
from explorer.training.run import Run
from explorer.training.turns import Turns

SMALL = {"dataset": "ring", "hidden": 16, "latent_dim": 2, "batch_size": 32, "steps": 600, "seed": 3}


TEST_WARM_UP_STEPS = 60


@pytest.fixture(scope="module")
def pool():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(processes_module, "WARM_UP_STEPS", TEST_WARM_UP_STEPS)
        processes = TrainingProcesses(1, threads=1)
        processes.start()
        yield processes
        processes.close()


def fresh(**changes) -> Run:
    run = Run(resolve(None, {**SMALL, **changes}), device="cpu")
    run.state.build_optimisers()
    return run


def place(pool, run: Run):
    """As a live session places its run at its first turn."""
    return pool.place(serialise(run), run.options)


def bring_back(remote, run: Run) -> None:
    """As a live session takes its run back when training stops."""
    remote.settle(run, remote.fetch())


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def same_run(here: Run, there: Run) -> None:
    assert there.step == here.step
    assert same_tensors(there.energy.state_dict(), here.energy.state_dict())
    assert same_tensors(there.generator.state_dict(), here.generator.state_dict())
    for ours, theirs in zip(here.state.optimiser_states(), there.state.optimiser_states(), strict=True):
        assert torch.equal(ours["exp_avg"], theirs["exp_avg"]) and ours["steps"] == theirs["steps"]
    assert torch.equal(there.state.rng.get_state(), here.state.rng.get_state())
    assert dict(there.history) == dict(here.history)


@pytest.mark.parametrize("changes", [{}, {"entropy": "vera"}, {"sampler": "langevin", "steps": 120}],
                         ids=["defaults", "vera", "langevin"])
def test_a_run_trained_in_the_process_comes_back_as_the_run_trained_here(pool, changes):
    here, there = fresh(**changes), fresh(**changes)
    remote = place(pool, there)
    for n in (7, 40, 13, 300):   # chunks as a live run takes them, past a progress evaluation
        done_here = here.advance(n)
        assert remote.take(there, remote.advance(there, n, full=n in (40, 300))) == done_here
        assert there.step == here.step
        if n in (40, 300):   # a frame's chunk: the weights it draws are the process's at that step, and
            # the history (its rows since the last frame's, the second time) the process's
            assert same_tensors(there.energy.state_dict(), here.energy.state_dict())
            assert dict(there.history) == dict(here.history)
    bring_back(remote, there)
    same_run(here, there)
    here.advance(5)        # and it goes on here (Step) as the run trained here does
    there.advance(5)
    same_run(here, there)
    assert pool._processes[0].runs == 0


def test_a_live_setting_changed_during_training_reaches_the_process_and_stays(pool):
    here, there = fresh(), fresh()
    remote = place(pool, there)
    remote.take(there, remote.advance(there, 20, full=False))
    here.advance(20)
    for run in (here, there):
        run.update_settings(entropy_weight=0.25, lr_energy=5e-4)
    remote.take(there, remote.advance(there, 30, full=False))
    here.advance(30)
    bring_back(remote, there)
    same_run(here, there)
    assert there.options["entropy_weight"] == 0.25 and there.options["lr_energy"] == 5e-4


def until(condition, live=None, limit=60.0):
    """Poll `condition`; `live`'s page reads its frames meanwhile (else it is gone)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "not within the limit"
        if live is not None:
            live.watched()
        time.sleep(0.05)


def test_a_live_session_trains_in_the_process_shows_frames_and_stops_where_it_trained(pool):
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool)
    live.new_run(resolve(None, {**SMALL, "steps": 100_000}))
    _, first_id = live.latest()
    live.start()
    until(lambda: live.latest()[0].step > 0, live)   # a live frame drawn from the process's weights
    frame, frame_id = live.latest()
    assert frame_id > first_id and live.error is None
    assert pool._processes[0].runs == 1
    halted_at = live.end()   # returns once training halted; the thread then sends the last frame
    until(lambda: not live.training)
    assert live.error is None
    assert live.run.step == halted_at > 0 and pool._processes[0].runs == 0
    frame, _ = live.latest()
    assert frame.step == halted_at   # the last frame: where training halted, from the run come back
    live.close()


def test_train_pressed_while_a_paused_run_comes_back_trains_it_on(pool, monkeypatch):
    come_back = LiveSession._come_back

    come_back_done = []

    def slowly(self, remote, run):   # as a run whose copy takes a while to come back
        time.sleep(0.5)
        come_back(self, remote, run)
        come_back_done.append(time.monotonic())

    monkeypatch.setattr(LiveSession, "_come_back", slowly)
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool)
    live.new_run(resolve(None, {**SMALL, "steps": 100_000}))
    live.start()
    until(lambda: live.run.step > 0, live)
    live.stop(wait=False)   # Pause
    assert live.training    # still coming back
    live.start()            # Train at once
    until(lambda: bool(come_back_done) and time.monotonic() > come_back_done[0] + 0.2, live)   # it came back
    came_back_at = live.run.step
    until(lambda: live.run.step > came_back_at + 50, live, limit=20.0)   # and trains on from there
    assert live.training and live.error is None
    live.close()


def test_a_process_that_dies_ends_its_run_with_a_message_and_the_next_run_trains(pool):
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool)
    live.new_run(resolve(None, {**SMALL, "steps": 100_000}))
    live.start()
    until(lambda: live.run.step > 0, live)
    pool._processes[0]._process.kill()   # out of memory, say
    until(lambda: not live.training, live)
    assert "the training process stopped" in live.error and live.run.paused
    assert live.needs_new_run(live.run.options)   # its optimisers were lost with it: Train starts anew
    frame, _ = live.latest()
    assert frame is not None and frame.step == live.run.step   # the pair it had is still shown
    live.new_run(resolve(None, {**SMALL, "steps": 50}))   # Reset: a new process trains the next run
    live.start()
    until(lambda: not live.training, live)
    assert live.error is None and live.run.step == 50 and live.run.done
    live.close()


@pytest.mark.skipif(os.name == "nt", reason="no SIGSTOP")
def test_a_process_that_stops_answering_ends_its_run_with_a_message_and_the_next_run_trains(pool, monkeypatch):
    import signal
    # short, but not so short that a busy machine trips it: with two tests at a time (CI), the niced
    # process's first answers took over a second, and the run ended before the test stopped it
    monkeypatch.setattr(processes_module, "ANSWER_SECONDS", 5.0)
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool)
    live.new_run(resolve(None, {**SMALL, "steps": 100_000}))
    live.start()
    until(lambda: live.run.step > 0, live)
    stalled = pool._processes[0]._process
    stalled.send_signal(signal.SIGSTOP)   # swapped out, deadlocked: there, but silent
    until(lambda: not live.training, live, limit=30.0)
    assert "did not answer within 5 s" in live.error and live.run.paused
    assert stalled.wait(5) is not None   # killed, not left stopped
    live.new_run(resolve(None, {**SMALL, "steps": 50}))   # Reset: a new process trains the next run
    live.start()
    until(lambda: not live.training, live)
    assert live.error is None and live.run.step == 50 and live.run.done
    live.close()


def test_an_abandoned_run_is_dropped_from_the_process(pool):
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool, abandon_seconds=0.5)
    live.new_run(resolve(None, {**SMALL, "steps": 100_000}))
    live.start()
    until(lambda: not live.training)   # not watched: the page has gone
    assert live.run is None and live.closed.startswith("this run ended")
    assert pool._processes[0].runs == 0


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="a process's memory is read from Linux's /proc")
def test_an_idle_process_that_has_grown_is_renewed_and_one_holding_a_run_is_not(pool):
    process = pool._processes[0]
    process.start()
    remote = place(pool, fresh())
    process.fresh_mb = 0.0   # as if it had grown by all it holds
    assert not process.renew_if_grown()   # it holds a run
    remote.drop()
    old = process._process.pid
    assert process.renew_if_grown()
    assert process._process.pid != old and process.fresh_mb > 0
    assert not process.renew_if_grown()   # fresh: nothing to renew
    here, there = fresh(), fresh()   # and the fresh one trains
    remote = place(pool, there)
    remote.take(there, remote.advance(there, 10, full=False))
    here.advance(10)
    bring_back(remote, there)
    same_run(here, there)


def test_a_closed_page_drops_its_run_in_the_process(pool):
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool)
    live.new_run(resolve(None, {**SMALL, "steps": 100_000}))
    live.start()
    until(lambda: live.run.step > 0, live)
    live.close()
    assert not live.training and live.run is None
    assert pool._processes[0].runs == 0


def test_a_run_torch_cannot_serialise_trains_on_its_thread(pool):
    live = LiveSession(device="cpu", turns=Turns(places=2, cores=1), processes=pool)
    live.new_run(resolve(None, {**SMALL, "spectral_norm": True, "steps": 40}))   # parametrised: not serialisable
    live.start()
    until(lambda: not live.training, live)
    assert live.error is None and live.run.step == 40 and pool._processes[0].runs == 0
    live.close()


def test_a_process_trains_a_throwaway_run_of_the_defaults_before_it_takes_runs_and_keeps_none_of_it(monkeypatch):
    said = []
    exchange = processes_module.TrainingProcess._exchange

    def noting(process, message):
        said.append(message[:3] if message[0] == "advance" else message[:2])
        return exchange(process, message)

    monkeypatch.setattr(processes_module.TrainingProcess, "_exchange", staticmethod(noting))
    processes = TrainingProcesses(1, threads=1)
    processes.start()
    try:
        chunks = -(-processes_module.WARM_UP_STEPS // processes_module.WARM_UP_CHUNK)
        assert said == [("load", WARM_UP_KEY), *[("advance", WARM_UP_KEY, processes_module.WARM_UP_CHUNK)] * chunks,
                        ("return", WARM_UP_KEY)]
        process = processes._pool()[0]
        assert process.runs == 0 and process.fresh_mb is not None
        with pytest.raises(processes_module.TrainingFailed, match="gone with its training process"):
            process.request(("advance", WARM_UP_KEY, 1, None, False), process.generation)   # returned: not kept
    finally:
        processes.close()


def test_a_warm_up_that_fails_leaves_a_process_that_trains(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ValueError("no defaults today")

    monkeypatch.setattr(processes_module, "resolve", broken)
    processes = TrainingProcesses(1, threads=1)
    processes.start()
    try:
        assert "warm-up failed: no defaults today" in caplog.text
        monkeypatch.undo()
        here, there = fresh(), fresh()
        remote = place(processes, there)
        remote.take(there, remote.advance(there, 10, full=False))
        here.advance(10)
        bring_back(remote, there)
        same_run(here, there)
    finally:
        processes.close()
