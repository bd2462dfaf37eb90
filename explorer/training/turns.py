"""Who trains when: places for runs, a line beyond them, and turns at the cores.

A 2-core machine trains a few runs well; a classroom presses Train thirty times in a minute.
Nothing is refused, and no run starves:

- places (ENERGYLAB_MAX_TRAINING, default 8): the runs that train now. A run beyond them waits in
  a line, first come first served, and its page says its place and about how long it waits.
- turns (ENERGYLAB_TURN_SECONDS, default 10): while anyone waits, a place is held for one turn;
  then it passes to the first in line and the run goes to the back. Thirty runs in eight places
  each train 10 s of every ~40 s; with no line a run keeps its place as long as it trains.
- cores (ENERGYLAB_TRAINING_CORES, default two chunks for each training process,
  explorer/training/processes.py, or with none the cores this process may use): among the runs with a
  place, at most this many train a chunk (~50 ms) at the same instant, granted in the order asked,
  so a run that just had a chunk never gets the next one before the others had theirs.
- a run that finishes, pauses, stops or is abandoned leaves at once: its place goes to the
  first in line.
- a holder is what holds a place: a run, or both runs of the Compare tab (one place between them).
- a small study takes a place for its whole length (its process cannot wait between chunks), and
  is refused ("busy") when no place is free, rather than queued behind Train.

Times come from `clock` (time.monotonic), so that the rules are tested with a clock that moves by hand.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from explorer.errors import UserInputError
from explorer.training.capacity import setting, usable_cores
from explorer.training.processes import PROCESSES

DEFAULT_PLACES = 8           # runs training at once on CPU basic (2 vCPU): each streams a frame a second
DEFAULT_TURN_SECONDS = 10.0  # 30 runs in 8 places: everyone trains within ~30 s of pressing Train
WAIT_SECONDS = 0.25          # how often a run waiting for a core looks at its stop flag (a Stop also wakes it)
# with training processes, two chunks a process at once: one trains there while the other's answer is
# read here and its next chunk asked for, so the process does not wait on the app between chunks
IN_FLIGHT = 2
LINE_SECONDS = 1.0           # how often a run in line does: a wake costs every thread the interpreter lock


@dataclass(frozen=True)
class Waiting:
    """A holder's place in the line (1: next), how many wait, and about how many seconds are left."""
    place: int
    of: int
    seconds: float | None   # None: only small studies hold the places, which end when they end

    def words(self) -> str:
        return f"waiting: place {self.place} of {self.of}, {about(self.seconds)}"


def about(seconds: float | None) -> str:
    """A wait in round figures: 'about 40 s', 'about 2 min'."""
    if seconds is None:
        return "until a place is free"
    if seconds < 5:
        return "a few seconds"
    if seconds < 60:
        return f"about {5 * math.ceil(seconds / 5):.0f} s"
    return f"about {math.ceil(seconds / 60):.0f} min"


class Turns:
    """Places, the line and the cores' turns, shared by every page of the server (TURNS).

    A member (a run's training thread) `join`s with its holder, asks for each chunk with `turn`,
    and `leave`s when it stops; `waiting` says where a holder stands in the line."""

    def __init__(self, places: int = DEFAULT_PLACES, cores: int = 1, turn_seconds: float = DEFAULT_TURN_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.places, self.cores, self.turn_seconds, self.clock = places, cores, turn_seconds, clock
        # one lock, two conditions: a chunk's end wakes the runs waiting for a core, not the whole line
        self._lock = threading.Lock()
        self._cores_changed = threading.Condition(self._lock)
        self._places_changed = threading.Condition(self._lock)
        self._holder_of: dict[object, object] = {}    # member -> its holder
        self._members: dict[object, set] = {}         # holder -> its members
        self._placed: dict[object, float] = {}        # holder -> when it got its place (oldest first)
        self._whole: set = set()                      # holders of a place for their whole length (studies)
        self._line: deque = deque()                   # holders waiting for a place, first first
        self._asking: deque = deque()                 # members with a place waiting for a core, first first
        self._running = 0                             # chunks under way

    # ------------------------------------------------------------------ joining and leaving
    def join(self, member: object, holder: object | None = None) -> None:
        """`member` wants to train in `holder`'s place (its own by default): a free place, or the
        back of the line. Never refuses."""
        holder = member if holder is None else holder
        with self._lock:
            if member in self._holder_of:
                return
            self._holder_of[member] = holder
            members = self._members.setdefault(holder, set())
            members.add(member)
            if len(members) == 1:   # a new holder
                if len(self._placed) < self.places and not self._line:
                    self._placed[holder] = self.clock()
                else:
                    self._line.append(holder)

    def leave(self, member: object) -> None:
        """`member` stopped training; the last member of a holder hands its place on at once."""
        with self._lock:
            holder = self._holder_of.pop(member, None)
            if holder is None:
                return
            if member in self._asking:
                self._asking.remove(member)
                self._cores_changed.notify_all()
            members = self._members[holder]
            members.discard(member)
            if not members:
                del self._members[holder]
                self._drop(holder)

    def take_place(self, holder: object) -> None:
        """A place for `holder`'s whole length (a small study), now or never: "busy" when the
        places are taken or runs wait."""
        with self._lock:
            if holder in self._whole:
                return
            if len(self._placed) >= self.places or self._line:
                raise UserInputError(
                    f"busy: all {self.places} places for training on this machine are taken"
                    + (f" and {len(self._line)} runs wait in line" if self._line else "")
                    + "; a small study needs a place for its whole length: try again in a few minutes, "
                      "or press Train, which waits in line")
            self._placed[holder] = self.clock()
            self._whole.add(holder)

    def give_back(self, holder: object) -> None:
        with self._lock:
            self._whole.discard(holder)
            self._drop(holder)

    def _drop(self, holder: object) -> None:
        self._placed.pop(holder, None)
        if holder in self._line:
            self._line.remove(holder)
        self._rotate()

    # ------------------------------------------------------------------ turns
    def wait_turn(self, member: object, give_up: Callable[[], bool]) -> bool:
        """Wait until `member`'s holder has a place and a core is `member`'s turn; True then (call
        `end_turn` after the chunk), False as soon as `give_up()` says so."""
        with self._lock:
            holder = self._holder_of[member]
            while True:
                if give_up():
                    if member in self._asking:
                        self._asking.remove(member)
                        self._cores_changed.notify_all()
                    return False
                self._rotate()
                if holder in self._placed:
                    if member not in self._asking:
                        self._asking.append(member)
                    if self._running < self.cores and self._asking[0] is member:
                        self._asking.popleft()
                        self._running += 1
                        self._cores_changed.notify_all()   # the next in line for a core may go too
                        return True
                    self._cores_changed.wait(WAIT_SECONDS)
                    continue
                if member in self._asking:   # its turn of the place is over while it asked
                    self._asking.remove(member)
                    self._cores_changed.notify_all()
                self._places_changed.wait(LINE_SECONDS)

    def end_turn(self) -> None:
        with self._lock:
            self._running -= 1
            self._cores_changed.notify_all()

    @contextmanager
    def turn(self, member: object, give_up: Callable[[], bool]):
        """`with turns.turn(member, give_up) as granted:` one chunk, when `granted`."""
        granted = self.wait_turn(member, give_up)
        try:
            yield granted
        finally:
            if granted:
                self.end_turn()

    def wake(self) -> None:
        """Waiting members look at their stop flags now (a Stop, an abandoned page)."""
        with self._lock:
            self._cores_changed.notify_all()
            self._places_changed.notify_all()

    def _rotate(self) -> None:
        """Places whose turn is over go to the back of the line, as many as wait; free places go
        to the first in line. Called with the lock held."""
        now = self.clock()
        waiting = len(self._line) - max(0, self.places - len(self._placed))   # beyond the free places
        for holder, since in list(self._placed.items()):   # the longest placed first
            if waiting <= 0:
                break
            if holder not in self._whole and now - since >= self.turn_seconds:
                del self._placed[holder]
                self._line.append(holder)
                for member in self._members.get(holder, ()):
                    if member in self._asking:
                        self._asking.remove(member)
                waiting -= 1
        moved = False
        while self._line and len(self._placed) < self.places:
            self._placed[self._line.popleft()] = now
            moved = True
        if moved:
            self._places_changed.notify_all()
            self._cores_changed.notify_all()   # a run asking for a core may have lost its place

    # ------------------------------------------------------------------ what pages show
    def waiting(self, holder: object) -> Waiting | None:
        """`holder`'s place in the line and about how long it waits; None when it has a place
        (or is not training)."""
        with self._lock:
            self._rotate()
            if holder not in self._line:
                return None
            index = self._line.index(holder)
            now = self.clock()
            # a place frees when its turn ends; the k-th in line gets the k-th place to free,
            # and one turn later for each round of places before it
            ends = sorted(max(0.0, self.turn_seconds - (now - since))
                          for h, since in self._placed.items() if h not in self._whole)
            ends += [0.0] * (self.places - len(self._placed))
            if not ends:
                return Waiting(index + 1, len(self._line), None)
            rounds, which = divmod(index, len(ends))
            return Waiting(index + 1, len(self._line), ends[which] + rounds * self.turn_seconds)

    @property
    def in_use(self) -> int:
        """Runs training now: the members of placed holders, a small study counting one."""
        with self._lock:
            return sum(len(self._members.get(h, ())) or 1 for h in self._placed)

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._line)


TURNS = Turns(places=int(setting("ENERGYLAB_MAX_TRAINING", DEFAULT_PLACES, 1, 1024)),
              cores=int(setting("ENERGYLAB_TRAINING_CORES", IN_FLIGHT * PROCESSES.count if PROCESSES else usable_cores(),
                                 1, 1024)),
              turn_seconds=setting("ENERGYLAB_TURN_SECONDS", DEFAULT_TURN_SECONDS, 1, 3600))
