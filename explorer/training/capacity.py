"""Training gives way to the pages: a page being opened comes first, and training threads run
at a lower priority. Who trains when, among the runs, is explorer/training/turns.py.

A page being opened comes first (`REQUESTS_FIRST`): from the moment a browser asks for the
page (`NewPagesFirst`) until its first view has reached it (the load event's outputs delivered:
the page then says so, `page_opened`), at most a few seconds, runs wait between chunks (at most a
couple of seconds at a time). A paused run publishes no frames, so the server stops drawing frames
for the other pages too: a new visitor's first landscape does not queue behind every run for the
cores and the interpreter lock.
"""
from __future__ import annotations

import math
import os
import threading
import time
from contextlib import contextmanager


class RequestsFirst:
    """Training waits between chunks while a page is being opened, at most `max_wait` seconds a time."""

    def __init__(self, max_wait: float = 2.0, page_grace: float = 3.0, page_gap: float = 1.0):
        self.max_wait = max_wait
        # long enough for a new page's scripts to start and draw with 8 runs training (docs/speed.md)
        self.page_grace = page_grace
        self.page_gap = page_gap
        self._serving = 0
        self._page_until = 0.0
        self._pages_opening = 0   # pages asked for within the current grace that have not said they opened
        self._changed = threading.Condition()

    def page_requested(self) -> None:
        """A browser asked for the page: runs wait for the next `page_grace` seconds, unless a
        grace ended less than `page_gap` ago. So pages requested in a stream (a classroom
        arriving, or someone reloading in a loop) pause training 3/4 of the time at most."""
        with self._changed:
            now = time.monotonic()
            if now >= self._page_until + self.page_gap:
                self._page_until = now + self.page_grace
                self._pages_opening = 1   # a page that never said so (no scripts: a crawler) is forgotten here
            elif now < self._page_until:
                self._pages_opening += 1

    def page_opened(self) -> None:
        """A page's first view has reached it (the load event's outputs are in the browser; what is
        left, drawing them, is the browser's). Once every page asked for in this grace has said so,
        the grace ends: training goes on at once instead of waiting out `page_grace`."""
        with self._changed:
            if self._pages_opening:
                self._pages_opening -= 1
                if not self._pages_opening:
                    self._page_until = min(self._page_until, time.monotonic())
                    self._changed.notify_all()

    def _busy(self) -> bool:
        return bool(self._serving) or time.monotonic() < self._page_until

    @contextmanager
    def serving(self):
        with self._changed:
            self._serving += 1
        try:
            yield
        finally:
            with self._changed:
                self._serving -= 1
                self._changed.notify_all()

    def wait_turn(self, stop: threading.Event) -> None:
        """Return when no page is being opened, `stop` is set, or `max_wait` has passed."""
        deadline = time.monotonic() + self.max_wait
        with self._changed:
            while self._busy() and not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(min(left, 0.05))   # short waits: a Stop must not wait for the page


REQUESTS_FIRST = RequestsFirst()


class NewPagesFirst:
    """ASGI middleware: a GET of the page itself (the root path) tells `requests_first`, before
    the page is sent. Everything else passes through untouched."""

    def __init__(self, app, requests_first: RequestsFirst = REQUESTS_FIRST):
        self.app = app
        self.requests_first = requests_first

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("method") == "GET" and scope.get("path") in ("", "/"):
            self.requests_first.page_requested()
        await self.app(scope, receive, send)


TRAINING_NICE = 10   # added to a training thread's niceness: pages, and browsers on the same machine, first


def lower_thread_priority() -> None:
    """Make the calling thread yield the CPU to anything of normal priority (Linux: a thread's
    own niceness; elsewhere nothing). A training thread calls it: when the cores are all busy,
    the server's answers and a browser on this machine run first; when they are not, training
    runs exactly as fast."""
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + TRAINING_NICE))
    except (AttributeError, OSError):   # no per-thread priority here, or not permitted
        pass


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup's CPU quota (a
    container, such as a Space, often sees the host's cores but may use only a few)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # no affinity here (macOS, Windows)
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def setting(name: str, default: float, low: float, high: float) -> float:
    """A number from the environment within [low, high], else the default."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if low <= value <= high else default
