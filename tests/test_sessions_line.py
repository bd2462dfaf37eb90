"""Live sessions on a busy machine: a run beyond the places waits in line and says so, trains
when a place frees or its turn comes, and a run whose page stopped reading ends and frees its pair.

Each test has its own Turns (one place, small runs), so nothing here depends on the machine's
other runs; waits poll for an outcome with a generous limit rather than time it."""
import time

from explorer.config.options import resolve
from explorer.page import frame_view, pairs, runs, views
from explorer.page.compare import Comparison, side_options
from explorer.page.setup import DEFAULT_PAIR
from explorer.page.state import PageState
from explorer.training.live import LiveSession
from explorer.training.turns import Turns

SMALL = {"dataset": "ring", "hidden": 16, "latent_dim": 2, "batch_size": 32, "steps": 1_000_000, "seed": 0}


def session(turns, **kwargs) -> LiveSession:
    live = LiveSession(device="cpu", turns=turns, **kwargs)
    live.new_run(resolve(None, SMALL))
    return live


def until(condition, limit=20.0, watching=()):
    """Poll `condition` (the sessions in `watching` read their frames meanwhile)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "not within the limit"
        for live in watching:
            live.watched()
        time.sleep(0.02)


def test_a_run_beyond_the_places_waits_in_line_then_trains_in_the_freed_place():
    turns = Turns(places=1, cores=1, turn_seconds=3600)
    first, second = session(turns), session(turns)
    first.start()
    second.start()
    until(lambda: first.run.step > 0, watching=(first, second))
    assert second.training and second.waiting().words() == "waiting: place 1 of 1, about 60 min"
    assert second.run.step == 0
    first.end()                             # Stop hands the place on at once
    until(lambda: second.run.step > 0, watching=(second,))
    assert second.waiting() is None and turns.queued == 0
    second.end()
    assert turns.in_use == 0


def test_runs_take_the_place_in_turns_and_both_progress():
    turns = Turns(places=1, cores=1, turn_seconds=0.3)
    first, second = session(turns), session(turns)
    first.start()
    second.start()
    seen_waiting = set()

    def both_moved():
        for live in (first, second):
            if live.waiting() is not None:
                seen_waiting.add(id(live))
        return first.run.step > 0 and second.run.step > 0 and len(seen_waiting) == 2

    until(both_moved, watching=(first, second))   # each waited for the other's turn, then trained
    first.end()
    second.end()


def test_the_status_line_says_the_place_in_line_while_the_run_waits():
    turns = Turns(places=1, cores=1, turn_seconds=3600)
    ahead, page = session(turns), PageState(device="cpu")
    page.live = session(turns)
    ahead.start()
    page.live.start()
    status = frame_view.newest(page).status
    assert "waiting: place 1 of 1" in status and "**step 0 /" in status
    assert "waiting: place 1 of 1" in frame_view.status_only(page).status
    ahead.close()
    until(lambda: page.live.waiting() is None, watching=(page.live,))
    page.close()


def test_a_run_whose_page_stopped_reading_ends_and_drops_its_pair():
    turns = Turns(places=1, cores=1, turn_seconds=3600)
    gone, waiting = session(turns, abandon_seconds=0.5), session(turns, abandon_seconds=0.5)
    gone.start()
    waiting.start()                         # in line, and its page gone too
    until(lambda: not gone.training and not waiting.training)
    for live in (gone, waiting):
        assert live.run is None and live.latest()[0] is None and len(live.replay) == 0
        assert "read none of its frames" in live.closed
    assert turns.in_use == 0 and turns.queued == 0
    page = PageState(device="cpu")
    page.live = gone
    assert "press Train to start again" in frame_view.newest(page).status


def test_a_watched_run_keeps_training():
    turns = Turns(places=1, cores=1)
    live = session(turns, abandon_seconds=0.5)
    live.start()
    deadline = time.monotonic() + 1.5       # three times the limit, its page reading all along
    until(lambda: time.monotonic() > deadline, watching=(live,))
    assert live.training and live.run.step > 0
    live.end()


def test_the_compare_tabs_two_runs_hold_one_place():
    turns = Turns(places=1, cores=2, turn_seconds=3600)
    left, right, names = side_options("lesson", "entropy", 0, steps=1_000_000)
    comparison = Comparison(left, right, names, device="cpu", turns=turns)
    other = session(turns)
    comparison.start()
    other.start()
    until(lambda: all(side.run.step > 0 for side in comparison.sides), watching=(*comparison.sides, other))
    assert comparison.waiting() is None and comparison.state == "training" and turns.in_use == 2
    assert other.waiting().words().startswith("waiting: place 1 of 1")
    comparison.pause()
    until(lambda: other.run.step > 0, watching=(other,))
    other.end()
    comparison.close()


def test_a_pretrained_pair_shown_while_the_run_waits_keeps_its_place_and_its_views_work():
    turns = Turns(places=1, cores=1, turn_seconds=3600)
    ahead, page = session(turns), PageState(device="cpu")
    run = page.live = session(turns)
    ahead.start()
    run.start()
    pairs.show_pretrained(page, DEFAULT_PAIR)
    assert page.aside is run and run.waiting() is not None and page.live.source == f"pretrained: {DEFAULT_PAIR}"
    assert "your run is waiting: place 1 of 1" in frame_view.newest(page).status
    assert views.gallery(page.live, page.views, 8, 0, False) is not None   # the views show the pair
    pairs.show_pretrained(page, DEFAULT_PAIR)                              # another pair: still aside
    assert page.aside is run and run.waiting() is not None
    ahead.close()
    until(lambda: run.waiting() is None, watching=(run,))
    assert page.bring_back(run) and page.live is run and page.aside is None   # its turn: the page's run again
    page.close()
    assert turns.in_use == 0


def test_acting_on_the_page_run_ends_the_run_waiting_aside():
    turns = Turns(places=1, cores=1, turn_seconds=3600)
    ahead, page = session(turns), PageState(device="cpu")
    run = page.live = session(turns)
    ahead.start()
    run.start()
    pairs.show_pretrained(page, DEFAULT_PAIR)
    runs.new_run(page, resolve(None, SMALL))                               # Reset: one run a page
    assert page.aside is None and run.run is None and not run.training and turns.queued == 0
    ahead.close()
    page.close()


def test_live_frames_made_aside_come_in_order_and_none_after_stop():
    """Live frames are made on another thread from a copy of the pair (live.publish_aside), so
    training goes on meanwhile; the frames handed out never go back in steps, a frame made from
    before Stop is not handed out after it, and the last frame is where training ended."""
    turns = Turns(places=1, cores=1, turn_seconds=3600)
    live = session(turns)
    live.start()
    seen, last_id = [], 0

    def read():
        nonlocal last_id
        frame, frame_id = live.wait_frame(last_id, timeout=0.05)
        if frame is not None and frame_id > last_id:
            seen.append(frame)
            last_id = frame_id
        return len(seen) >= 5

    until(read, watching=(live,))
    assert any(frame.info.get("training") for frame in seen)   # live frames while training
    ended = live.end()
    until(lambda: not live.training, watching=(live,))
    read()
    steps = [frame.step for frame in seen]
    assert steps == sorted(steps)
    final, _ = live.latest()
    assert final.step == ended and final.info["state"] != "training"
    assert live.error is None
