"""explorer/training/turns.py: places, the line beyond them, turns of a place, and fair turns at the cores.

The rules are checked with a clock moved by hand; the cores' turns with real threads and chunks
that do nothing, counted rather than timed."""
import threading

import pytest

from explorer.errors import UserInputError
from explorer.training.capacity import usable_cores
from explorer.training.turns import Turns, Waiting, about


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def line_of(turns, *holders):
    return [turns.waiting(h) for h in holders]


def test_runs_beyond_the_places_wait_in_line_first_come_first_served_with_their_wait():
    clock = Clock()
    turns = Turns(places=2, cores=1, turn_seconds=10, clock=clock)
    a, b, c, d, e = (object() for _ in range(5))
    for run in (a, b, c, d, e):
        turns.join(run)                       # never refused
    assert turns.waiting(a) is None and turns.waiting(b) is None and turns.queued == 3
    # c and d get the places a and b free at the end of their turns; e one turn after
    assert line_of(turns, c, d, e) == [Waiting(1, 3, 10.0), Waiting(2, 3, 10.0), Waiting(3, 3, 20.0)]
    clock.now = 4.0
    assert turns.waiting(c).seconds == 6.0
    turns.leave(a)                            # a finished: its place goes to c at once
    assert turns.waiting(c) is None
    assert line_of(turns, d, e) == [Waiting(1, 2, 6.0), Waiting(2, 2, 10.0)]
    assert turns.waiting(d).words() == "waiting: place 1 of 2, about 10 s"


def test_a_place_passes_on_after_its_turn_only_while_others_wait():
    clock = Clock()
    turns = Turns(places=2, cores=1, turn_seconds=10, clock=clock)
    a, b = object(), object()
    turns.join(a)
    turns.join(b)
    clock.now = 1000.0
    assert turns.waiting(a) is None and turns.waiting(b) is None   # nobody waits: both keep training
    c, d = object(), object()
    turns.join(c)
    clock.now = 1004.0
    turns.leave(b)                            # c gets b's place at 1004
    turns.join(d)
    clock.now = 1010.0
    # a's turn is long over: it goes to the back of the line, d gets its place; c's turn is not over
    assert turns.waiting(a) == Waiting(1, 1, 4.0)
    assert turns.waiting(d) is None and turns.waiting(c) is None
    clock.now = 1014.0
    assert turns.waiting(a) is None and turns.waiting(c) == Waiting(1, 1, 6.0)   # round and round


def test_a_holders_members_share_one_place_and_leave_it_together():
    turns = Turns(places=1, cores=2, clock=Clock())
    comparison, left, right, other = object(), object(), object(), object()
    turns.join(left, comparison)
    turns.join(right, comparison)             # the Compare tab's second run: the same place
    turns.join(other)
    assert turns.waiting(comparison) is None and turns.waiting(other) == Waiting(1, 1, 10.0)
    assert turns.in_use == 2
    turns.leave(left)
    assert turns.waiting(other) is not None   # the right run still trains in the place
    turns.leave(right)
    assert turns.waiting(other) is None and turns.in_use == 1


def test_a_waiting_run_gives_up_at_once_and_leaves_the_line():
    turns = Turns(places=1, cores=1, clock=Clock())
    a, b = object(), object()
    turns.join(a)
    turns.join(b)
    assert turns.wait_turn(b, give_up=lambda: True) is False
    turns.leave(b)
    assert turns.queued == 0
    with turns.turn(a, give_up=lambda: False) as granted:
        assert granted


def test_turns_at_the_cores_go_round_in_the_order_asked():
    """Four runs, one core: each chunk goes to the run that asked first, so a run that just had
    one waits for the others (a plain lock lets the thread that holds the interpreter take it again)."""
    turns = Turns(places=4, cores=1)
    runs = [object() for _ in range(4)]
    for run in runs:
        turns.join(run)
    grants, inside, most = [], [0], [0]
    lock, stop, ready = threading.Lock(), threading.Event(), threading.Barrier(4)

    def train(run):
        ready.wait()
        while True:
            with turns.turn(run, give_up=stop.is_set) as granted:
                if not granted:
                    return
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                    grants.append(run)
                    if len(grants) >= 200:
                        stop.set()
                stop.wait(0.001)   # a chunk: the others ask meanwhile
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=train, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    warm = next(i for i in range(len(grants)) if set(grants[: i + 1]) == set(runs))   # all four asking
    counts = [grants[warm:].count(run) for run in runs]
    assert most[0] == 1 and len(grants) >= 200
    assert max(counts) - min(counts) <= 3, counts


def test_at_most_cores_chunks_at_once():
    turns = Turns(places=6, cores=2)
    runs = [object() for _ in range(6)]
    inside, most, done = [0], [0], [0]
    lock = threading.Lock()

    def train(run):
        turns.join(run)
        for _ in range(30):
            with turns.turn(run, give_up=lambda: False):
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                threading.Event().wait(0.001)
                with lock:
                    inside[0] -= 1
                    done[0] += 1
        turns.leave(run)

    threads = [threading.Thread(target=train, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert done[0] == 180 and most[0] == 2 and turns.in_use == 0


def test_a_small_study_takes_a_free_place_or_is_told_busy():
    turns = Turns(places=2, cores=1, clock=Clock())
    study, run, other = object(), object(), object()
    turns.take_place(study)
    turns.join(run)
    with pytest.raises(UserInputError, match="busy: all 2 places"):
        turns.take_place(other)
    turns.join(other)                         # a Train still waits in line
    clock_seconds = turns.waiting(other).seconds
    assert clock_seconds == 10.0              # the study's place never turns: only the run's
    turns.give_back(study)
    assert turns.waiting(other) is None


def test_waits_in_round_figures():
    assert [about(s) for s in (0.5, 6.0, 40.0, 59.0, 61.0, 150.0)] == [
        "a few seconds", "about 10 s", "about 40 s", "about 60 s", "about 2 min", "about 3 min"]
    assert about(None) == "until a place is free"
    assert usable_cores() >= 1
