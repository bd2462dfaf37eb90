"""explorer/training/capacity.py: a page being opened (from its first request) comes before training, and
training threads yield."""
import os
import threading
import time

import pytest

from explorer.training.capacity import TRAINING_NICE, NewPagesFirst, RequestsFirst, lower_thread_priority


def test_training_waits_while_a_page_is_served_and_goes_on_after():
    gate, stop = RequestsFirst(max_wait=5.0), threading.Event()
    waited = []

    def training_turn():
        started = time.monotonic()
        gate.wait_turn(stop)
        waited.append(time.monotonic() - started)

    with gate.serving():
        worker = threading.Thread(target=training_turn)
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive(), "training went on while a page was being served"
    worker.join(2.0)
    assert not worker.is_alive() and 0.25 <= waited[0] < 2.0


def test_the_wait_is_bounded_and_a_stop_ends_it():
    gate, stop = RequestsFirst(max_wait=0.2), threading.Event()
    with gate.serving():
        started = time.monotonic()
        gate.wait_turn(stop)
        assert 0.15 <= time.monotonic() - started < 1.0   # a slow page never freezes training
        stop.set()
        started = time.monotonic()
        RequestsFirst(max_wait=60.0).wait_turn(stop)     # nothing served: no wait at all
        gate.max_wait = 60.0
        gate.wait_turn(stop)                               # stopping: no wait either
        assert time.monotonic() - started < 0.5


def test_no_wait_when_no_page_is_being_served():
    started = time.monotonic()
    RequestsFirst(max_wait=10.0).wait_turn(threading.Event())
    assert time.monotonic() - started < 0.1


@pytest.mark.skipif(not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"),
                    reason="per-thread priority is a Linux feature")
def test_a_training_thread_lowers_only_its_own_priority():
    seen = {}

    def worker():
        lower_thread_priority()
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["thread"] == min(19, before + TRAINING_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_a_page_request_makes_training_wait_for_its_grace_period():
    gate, stop = RequestsFirst(max_wait=5.0, page_grace=0.3, page_gap=0.3), threading.Event()
    gate.page_requested()
    started = time.monotonic()
    gate.wait_turn(stop)
    assert 0.25 <= time.monotonic() - started < 1.5   # waited out the grace, not max_wait
    started = time.monotonic()
    gate.wait_turn(stop)                                # over: no wait
    assert time.monotonic() - started < 0.1
    gate.page_requested()                               # within the gap after a grace: no new grace
    started = time.monotonic()
    gate.wait_turn(stop)
    assert time.monotonic() - started < 0.1
    time.sleep(0.35)
    gate.page_requested()                               # after it: a new grace
    assert gate._busy()
    stop.set()
    started = time.monotonic()
    gate.wait_turn(stop)                                # a Stop does not wait for a page
    assert time.monotonic() - started < 0.2


def test_the_middleware_marks_gets_of_the_page_and_nothing_else():
    import asyncio

    class Recorder:
        requested = 0

        def page_requested(self):
            self.requested += 1

    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["path"])

    recorder = Recorder()
    middleware = NewPagesFirst(inner, recorder)
    for scope in ({"type": "http", "method": "GET", "path": "/"},
                  {"type": "http", "method": "GET", "path": "/gradio_api/queue/data"},
                  {"type": "http", "method": "POST", "path": "/"},
                  {"type": "websocket", "path": "/"},
                  {"type": "lifespan"}):
        asyncio.run(middleware(dict(scope, path=scope.get("path", "")), None, None))
    assert recorder.requested == 1             # the GET of the page alone
    assert len(calls) == 5                     # every request still reaches the app


def test_a_page_that_says_it_opened_ends_the_grace_and_one_that_does_not_is_forgotten():
    gate, stop = RequestsFirst(max_wait=5.0, page_grace=2.0, page_gap=0.1), threading.Event()
    gate.page_requested()
    gate.page_requested()                               # a second page within the grace
    gate.page_opened()
    assert gate._busy()                                 # one of the two still opening: training waits
    threading.Timer(0.2, gate.page_opened).start()
    started = time.monotonic()
    gate.wait_turn(stop)
    assert 0.15 <= time.monotonic() - started < 1.0     # ended when the second said so, not after 2 s
    gate.page_opened()                                  # a report too many changes nothing
    assert not gate._busy()

    gate = RequestsFirst(max_wait=5.0, page_grace=0.2, page_gap=0.1)
    gate.page_requested()                               # a page that never says it opened (no scripts)
    time.sleep(0.35)
    gate.page_requested()                               # the next grace counts only its own page
    assert gate._busy()
    gate.page_opened()
    assert not gate._busy()
