"""A bound on how many runs train at once on this machine, shared by every browser session.

A public Space or a classroom can have dozens of pages open; each training run takes most of a
core, so beyond a bound more runs only make every run slower and every page later. A run that
would pass the bound is refused with a "busy" message that says how many are training, instead
of queueing silently. Set ENERGYLAB_MAX_TRAINING to change the bound (default 8).

Within the bound, runs take turns: at most as many train at the same instant as the machine has
cores (`CORES`, a semaphore held for one chunk of ~50 ms). All runs still progress, but the
Python interpreter's lock is shared by a few training threads rather than all of them, so the
page of a new visitor is still served promptly.
"""
from __future__ import annotations

import os
import threading

from .errors import UserInputError

DEFAULT_MAX_TRAINING = 8


def _limit_from_environment() -> int:
    raw = os.environ.get("ENERGYLAB_MAX_TRAINING", "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_MAX_TRAINING
    return value if 1 <= value <= 1024 else DEFAULT_MAX_TRAINING


class TrainingSlots:
    """At most `limit` holders at a time; `take` refuses (never waits) when all are held."""

    def __init__(self, limit: int):
        self.limit = limit
        self._holders: set[int] = set()
        self._lock = threading.Lock()

    def take(self, holder: object) -> None:
        with self._lock:
            if id(holder) in self._holders:
                return
            if len(self._holders) >= self.limit:
                raise UserInputError(f"busy: {len(self._holders)} runs are training on this machine, its limit; "
                                     "try again in a minute, or look at a pretrained pair meanwhile")
            self._holders.add(id(holder))

    def give_back(self, holder: object) -> None:
        with self._lock:
            self._holders.discard(id(holder))

    @property
    def in_use(self) -> int:
        with self._lock:
            return len(self._holders)


SLOTS = TrainingSlots(_limit_from_environment())
CORES = threading.Semaphore(max(1, os.cpu_count() or 1))   # runs training at this instant
