"""Which clicks on Train count, when the browser held them.

Train's event uses Gradio's trigger mode "always_last": a click on Train while Train's previous
stream is still sending (Pause or Stop pressed, the run's last frame on its way) is held by the page
and sent once that stream ends. Gradio's default, "once", dropped it: Pause then Train at once left
the run paused. A held click may also be stale, though: a second click on Train while the run trained
(a double click) would restart a run the user has since paused. So a held click counts only when
Pause or Stop came between the start of the stream it waited behind and the click itself.

The Compare tab's Train both works the same way, with its own record. The page sends each request
with the age of its last real click on the button (the page's head script, train_clicks.html, and
explorer/ui/static/click_age.js); here it becomes a time on the server's clock,
compared with when the page's last Train stream started and ended and when Pause or Stop last arrived.
A request without an age (an API client, which holds nothing) always counts.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

# how far a click may seem to come before the Pause or Stop it followed: each time is when its request
# reached the server, and two requests' trips differ (a held click is sent by the page only once the
# stream has ended). A double click on Train this close before Pause still restarts the run: rare, harmless.
TRIP_SLACK_SECONDS = 0.5


class TrainClicks:
    """A page's Train streams and its Pause or Stop, on the server's clock (time.monotonic)."""

    def __init__(self):
        self.started = -math.inf   # the last Train stream began
        self.ended = -math.inf     # ... and ended (below `started` while it runs)
        self.halted = -math.inf    # Pause or Stop last arrived

    def counts(self, click_age_ms, now: float | None = None) -> bool:
        """Whether a Train request whose click is `click_age_ms` old starts (or goes on with) training."""
        now = _now(now)
        try:
            age = float(click_age_ms) / 1000
        except (TypeError, ValueError):
            return True
        if not math.isfinite(age) or age < 0:
            return True
        clicked = now - age
        held = self.started <= clicked < self.ended   # made while the last stream ran
        return not held or self.started <= self.halted <= clicked + TRIP_SLACK_SECONDS

    def stream(self, click_age_ms, streaming: Callable[[], Iterator], unchanged: Callable[[], object]) -> Iterator:
        """A Train handler's stream: `streaming()`'s updates, its start and end noted; or, for a click
        that does not count, `unchanged()` alone."""
        if not self.counts(click_age_ms):
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


def _now(now: float | None) -> float:
    return time.monotonic() if now is None else now
