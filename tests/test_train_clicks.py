"""Which clicks on Train count when the page held them (explorer/page/train_clicks.py): the times
are given, so each case is a known answer."""
from explorer.page.train_clicks import TRIP_SLACK_SECONDS, TrainClicks


def clicks_after_a_stream(started=10.0, ended=20.0, halted=None) -> TrainClicks:
    clicks = TrainClicks()
    clicks.stream_started(now=started)
    if halted is not None:
        clicks.halt(now=halted)
    clicks.stream_ended(now=ended)
    return clicks


def test_a_click_without_an_age_counts_as_an_api_clients_does():
    clicks = clicks_after_a_stream()
    for age in (None, "", "not a number", float("nan"), -5):
        assert clicks.counts(age, now=20.1)


def test_a_click_after_the_stream_ended_counts():
    assert clicks_after_a_stream().counts(0, now=25.0)
    assert clicks_after_a_stream().counts(4_000, now=25.0)   # clicked at 21


def test_pause_then_train_at_once_counts():
    # Pause at 15.000, Train at 15.010, held while the paused run's last frame was sent until 15.6
    clicks = clicks_after_a_stream(halted=15.0, ended=15.6)
    assert clicks.counts(600, now=15.61)


def test_a_double_click_while_training_does_not_restart_a_run_paused_since():
    # Train twice (10.0, 12.0), Pause at 15: the second click, held until the stream ended at 15.6, is stale
    clicks = clicks_after_a_stream(halted=15.0, ended=15.6)
    assert not clicks.counts(3_610, now=15.61)


def test_a_double_click_while_training_does_not_start_a_new_run_when_it_finishes():
    clicks = clicks_after_a_stream(ended=40.0)   # finished by itself: no Pause or Stop
    assert not clicks.counts(29_000, now=40.1)   # clicked at 11.1, during the stream


def test_requests_trips_that_differ_are_allowed_for():
    # Pause's request took longer than the held Train's: seen 0.1 s after the click it followed
    clicks = clicks_after_a_stream(halted=15.1, ended=15.6)
    assert clicks.counts(600, now=15.6)   # clicked at 15.0
    assert not clicks.counts((15.6 - (15.1 - TRIP_SLACK_SECONDS - 0.1)) * 1000, now=15.6)


def test_a_pause_before_the_stream_it_waited_behind_does_not_count():
    clicks = TrainClicks()
    clicks.halt(now=5.0)
    clicks.stream_started(now=10.0)
    clicks.stream_ended(now=20.0)
    assert not clicks.counts(5_000, now=20.0)   # clicked at 15, held; the Pause was before the stream
