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


# with the age of the page's last click on Pause or Stop, read at the same instant on the page's clock
def test_pause_then_train_at_once_counts_however_late_pauses_request_arrived():
    # Pause clicked at 15.000 and Train at 15.010; Pause's request reached the server only at 16.0,
    # past the slack, so on arrival times alone the held click would look stale
    clicks = clicks_after_a_stream(halted=16.0, ended=16.4)
    assert not clicks.counts(1_400, now=16.41)                  # arrivals alone: wrongly stale
    assert clicks.counts(1_400, halt_age_ms=1_410, now=16.41)   # the page's clock: Pause first


def test_pause_and_train_in_the_same_millisecond_count():
    clicks = clicks_after_a_stream(halted=15.0, ended=15.6)
    assert clicks.counts(600, halt_age_ms=600, now=15.6)


def test_a_double_click_then_pause_is_stale_on_the_pages_clock_too():
    # Train again at 12.0 while training, Pause at 15.0: the held click came before the Pause
    clicks = clicks_after_a_stream(halted=15.0, ended=15.6)
    assert not clicks.counts(3_600, halt_age_ms=600, now=15.6)


def test_a_pause_clicked_before_the_stream_began_does_not_make_a_held_click_count():
    clicks = TrainClicks()
    clicks.halt(now=5.0)
    clicks.stream_started(now=10.0)
    clicks.stream_ended(now=20.0)
    assert not clicks.counts(5_000, halt_age_ms=15_000, now=20.0)   # Pause at 5, the held click at 15
    # a Pause clicked a moment before the stream's request arrived is within the requests' trips
    assert clicks.counts(5_000, halt_age_ms=(20.0 - 10.0 + TRIP_SLACK_SECONDS / 2) * 1000, now=20.0)


def test_no_pause_on_the_page_falls_back_to_arrivals():
    clicks = clicks_after_a_stream(ended=40.0)   # the run finished by itself; the page clicked no Pause
    assert not clicks.counts(29_000, halt_age_ms=None, now=40.1)
