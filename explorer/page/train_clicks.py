"""Which clicks on Train count, when the browser held them.

Train's event uses Gradio's trigger mode "always_last": a click on Train while Train's previous
stream is still sending (Pause or Stop pressed, the run's last frame on its way) is held by the page
and sent once that stream ends. Gradio's default, "once", dropped it: Pause then Train at once left
the run paused. A held click may also be stale, though: a second click on Train while the run trained
(a double click) would restart a run the user has since paused. So a held click counts only when
Pause or Stop came between the start of the stream it waited behind and the click itself.

The Compare tab's Train both works the same way, with its own record. The page sends each request
with the age of its last real click on the button and the age of its last click on Pause or Stop,
both taken on the page's clock at the moment it sends (the page's head script, train_clicks.html,
and explorer/ui/static/click_age.js). Which of the two clicks came first is so read exactly: an
earlier design compared the click with when Pause's request *reached the server*, and on a loaded
machine a Pause that took over the slack to arrive made Pause-then-Train look stale (stop 34).
The server's clock still says whether the click was held (made while the page's last Train stream
ran) and whether the Pause came after that stream began: times seconds apart, where a request's
trip does not matter. A request without an age (an API client, which holds nothing) always counts;
one without a Pause's age falls back to when Pause or Stop arrived here.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

# how far a Pause's click (or its arrival) may seem to come before what it is compared with on the
# server's clock: times taken from a request's send and its arrival differ by its trip. Used where the
# two times are seconds apart (a Pause and the stream it halted), or in the fallback on arrivals alone.
TRIP_SLACK_SECONDS = 0.5


class TrainClicks:
    """A page's Train streams and its Pause or Stop, on the server's clock (time.monotonic)."""

    def __init__(self):
        self.started = -math.inf   # the last Train stream began
        self.ended = -math.inf     # ... and ended (below `started` while it runs)
        self.halted = -math.inf    # Pause or Stop last arrived

    def counts(self, click_age_ms, halt_age_ms=None, now: float | None = None) -> bool:
        """Whether a Train request whose click is `click_age_ms` old starts (or goes on with)
        training; `halt_age_ms`: how old the page's last click on Pause or Stop was when it sent this."""
        now = _now(now)
        age = _seconds(click_age_ms)
        if age is None:
            return True
        clicked = now - age
        held = self.started <= clicked < self.ended   # made while the last stream ran
        if not held:
            return True
        halt_age = _seconds(halt_age_ms)
        if halt_age is None:   # when Pause or Stop arrived here, against when the click did
            return self.started <= self.halted <= clicked + TRIP_SLACK_SECONDS
        # both ages from the page's one clock, read at one instant: their order is exact
        return halt_age >= age and now - halt_age >= self.started - TRIP_SLACK_SECONDS

    def stream(self, click_age_ms, halt_age_ms, streaming: Callable[[], Iterator],
               unchanged: Callable[[], object]) -> Iterator:
        """A Train handler's stream: `streaming()`'s updates, its start and end noted; or, for a click
        that does not count, `unchanged()` alone."""
        if not self.counts(click_age_ms, halt_age_ms):
            yield unchanged()
            return
        self.stream_started()
        try:
            yield from streaming()
        finally:
            self.stream_ended()

    def stream_started(self, now: float | None = None) -> None:
        self.started = _now(now)

    def stream_ended(self, now: float | None = None) -> None:
        self.ended = _now(now)

    def halt(self, now: float | None = None) -> None:
        """Pause or Stop arrived."""
        self.halted = _now(now)


def _seconds(age_ms) -> float | None:
    """An age the page sent, in seconds; None when there is none (an API client, no click yet)."""
    try:
        age = float(age_ms) / 1000
    except (TypeError, ValueError):
        return None
    return age if math.isfinite(age) and age >= 0 else None


def _now(now: float | None) -> float:
    return time.monotonic() if now is None else now
