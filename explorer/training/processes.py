"""Training off the app's interpreter lock: a live run's chunks train in a process of their own.

Why: a training step of these small networks is mostly Python (dispatch, autograd), so a run
trained on one of the app's threads holds the interpreter lock most of the time, and every page's
Python work (thirty streams, configs, frames, new visitors' pages) comes out of the same lock: the
app trained on about one core, and a class of thirty got 62-84 % of the steps eight sessions got
(docs/security.md). Here live runs train in ENERGYLAB_TRAINING_PROCESSES processes (default: the
usable cores less one, at least one: on CPU basic's 2 vCPUs one process trains and a core is left
to the pages; 0: train on the app's own threads, as before). A run on a GPU trains on its thread.

How: when a run is first given a turn, a copy of it (the whole Run, serialised by torch.save: the
app's own objects, never anything a user handed in) goes to the process holding the fewest; each chunk is a request there,
`advance`, whose answer carries the step, a pause and its warning, and, when a frame is due, the
networks' weights, the Langevin chains and the metric history, copied into the app's Run: frames
and every view read a pair at most one frame old. When training stops (Pause, Stop, finished,
diverged) the whole run comes back into the app's Run (optimisers, random streams, the best pair
on validation), so Step, Train and Save go on where the process left off, as if it had trained
here (the same float32 operations: tests/test_training_processes.py). An abandoned or closed
page's copy is dropped. A process that dies ends each of its runs with a message (the weights of
its last frame stay shown; Train starts a new run) and is started afresh for the next; a run that
torch cannot serialise (spectral normalisation's parametrised layers) trains on its thread.

The processes are started with `python -m explorer.training.process_main` (not forked: the app
has threads), and speak length-prefixed torch.save pickles over their stdin and stdout. On a GPU
no process is started.
"""
from __future__ import annotations

import io
import itertools
import logging
import math
import os
import struct
import subprocess
import sys
import threading
from concurrent.futures import TimeoutError as AnswerTimeout

import torch

from explorer.config.options import resolve
from explorer.training.capacity import setting, usable_cores
from explorer.training.channel import Channel
from explorer.training.memory import resident_mb
from explorer.training.run import Run

log = logging.getLogger(__name__)

HEADER = struct.Struct("<Q")   # a message's length, then its pickle
# A process that has held runs keeps some of their memory (the C library's heaps, torch's and
# numpy's caches): once it has held none for IDLE_SECONDS and has grown by more than GROWTH_MB
# since it started, a fresh one replaces it, so that a class's memory is back after it leaves.
IDLE_SECONDS = 10.0
GROWTH_MB = 20.0
# A fresh process has imported torch but run none of it: a run's first few hundred steps there read
# in ~15 MB of torch's code and grow its heaps and caches (the first evaluation, frames' answers),
# +20-40 MB once per process, which alone passed GROWTH_MB (so every process that had trained was
# renewed once idle, and the next run paid it again). So before it takes runs, a throwaway run of
# the app's defaults trains there for WARM_UP_STEPS (ENERGYLAB_WARM_UP_STEPS; 0: none), in chunks
# with frames' answers, and comes back: paid at launch, and counted in `fresh_mb` (docs/security.md).
WARM_UP_STEPS = int(setting("ENERGYLAB_WARM_UP_STEPS", 300, 0, 100_000))
WARM_UP_CHUNK = 50
WARM_UP_KEY = -1   # runs' keys count up from 0
ANSWER_SECONDS = setting("ENERGYLAB_ANSWER_SECONDS", 120.0, 1.0, 3600.0)


class TrainingFailed(Exception):
    """The training process reported an error, or stopped."""


def training_processes() -> int:
    """ENERGYLAB_TRAINING_PROCESSES (0 to 64), else the usable cores less one, at least one."""
    return int(setting("ENERGYLAB_TRAINING_PROCESSES", max(1, usable_cores() - 1), 0, 64))


def serialise(value) -> bytes:
    """torch.save's pickle: tensors that share a buffer (the optimisers' flat views) are written
    once, where plain pickle writes the whole buffer for each (8x the weights)."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def deserialise(data: bytes):
    """What `serialise` wrote: only ever the app's own objects, from its own training process
    (weights_only=False unpickles them; nothing a user hands in comes this way)."""
    return torch.load(io.BytesIO(data), weights_only=False)


def encode(message) -> bytes:
    """A message as it goes on the pipe: its length, then its pickle."""
    data = serialise(message)
    return HEADER.pack(len(data)) + data


def write_message(stream, message) -> None:
    stream.write(encode(message))
    stream.flush()


def read_message(stream):
    """The next message, or EOFError when the other side has gone."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return deserialise(data)


STOPPED = "the training process stopped (out of memory?); press Reset to start a new run"


def stopped() -> TrainingFailed:
    return TrainingFailed(STOPPED)


class TrainingProcess:
    """One process and the runs' copies it holds. Requests go on its pipe as they come, and it
    answers them in turn (explorer/training/channel.py): the next chunk is there when one ends.
    Each start of the process is a new generation: a copy placed in an earlier one is gone, and its
    requests fail at once."""

    def __init__(self, threads: int):
        self.threads = threads
        self.runs = 0            # copies placed in this generation (what `place` balances)
        self.generation = 0
        self.fresh_mb: float | None = None   # its memory once started, before any run
        self._lock = threading.Lock()        # guards the process, runs and generation
        self._process: subprocess.Popen | None = None
        self._channel: Channel | None = None

    def _started(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "explorer.training.process_main", str(self.threads)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=os.path.dirname(os.path.dirname(
                        os.path.dirname(os.path.abspath(__file__)))))
            except OSError as e:
                self._process = None
                raise TrainingFailed(f"the training process could not start: {e}") from None
            self.generation += 1
            self.runs = 0
            try:   # it answers once it has imported what training needs (seconds)
                read_message(self._process.stdout)
            except Exception:  # noqa: BLE001 - whatever it was, this process is of no use
                self._process.kill()
                raise TrainingFailed("the training process did not start") from None
            self._channel = Channel(self._process, encode, read_message, stopped)
            self._warm_up(self._channel)
            self.fresh_mb = resident_mb(self._process.pid)
        return self._process

    def _warm_up(self, channel: Channel) -> None:
        """Train a throwaway run of the defaults there for WARM_UP_STEPS and take it back. A warm-up
        that fails leaves the process as it is (its runs report their own failures); one that
        ends the process means it did not start."""
        if not WARM_UP_STEPS:
            return
        try:
            run = Run(resolve(), device="cpu")
            run.state.build_optimisers()
            self._exchange(channel, ("load", WARM_UP_KEY, serialise(run)))
            for _ in range(math.ceil(WARM_UP_STEPS / WARM_UP_CHUNK)):
                self._exchange(channel, ("advance", WARM_UP_KEY, WARM_UP_CHUNK, None, True))
            self._exchange(channel, ("return", WARM_UP_KEY))
        except Exception as e:  # noqa: BLE001 - without a warm-up the runs still train
            if channel.process.poll() is not None:
                raise TrainingFailed("the training process did not start") from None
            log.warning("the training process's warm-up failed: %s", e)

    def renew_if_grown(self) -> bool:
        """Replace the process with a fresh one if it holds no run and has grown by more than
        GROWTH_MB since it started; returns whether it did."""
        with self._lock:
            process = self._process
            if self.runs or process is None or process.poll() is not None or self.fresh_mb is None:
                return False
            now = resident_mb(process.pid)
            if now is None or now - self.fresh_mb <= GROWTH_MB:
                return False
            self._process = None
            process.stdin.close()   # it ends once it has read to the end
            try:
                self._started()
            except TrainingFailed:   # the next request tries again
                pass
        threading.Thread(target=process.wait, daemon=True).start()   # reaped when it has gone
        return True

    def start(self) -> None:
        with self._lock:
            self._started()

    def load(self, key: int, data: bytes) -> int:
        """Place a run's copy (`serialise`d); returns the generation it lives in."""
        with self._lock:
            self._started()
            channel, generation = self._channel, self.generation
            self.runs += 1   # counted at once, so that the next run goes elsewhere while this one loads
        try:
            self._exchange(channel, ("load", key, data))
        except BaseException:
            self.forget(generation)
            raise
        return generation

    def request(self, message, generation: int):
        """A request about a copy placed in `generation`: TrainingFailed if that process has gone.
        Written behind the requests already asked; waited for outside the lock."""
        with self._lock:
            if generation != self.generation or self._process is None or self._process.poll() is not None:
                raise TrainingFailed(STOPPED)
            channel = self._channel
        return self._exchange(channel, message)

    def forget(self, generation: int) -> None:
        """A copy of `generation` has left (returned, dropped, or gone with its process)."""
        with self._lock:
            if generation == self.generation:
                self.runs = max(0, self.runs - 1)
            idle = self.runs == 0
        if idle:   # the last run left: renewed if it stays idle and has grown (IDLE_SECONDS)
            timer = threading.Timer(IDLE_SECONDS, self.renew_if_grown)
            timer.daemon = True
            timer.start()

    @staticmethod
    def _exchange(channel: Channel, message):
        """`message`'s answer. A request takes a chunk (~50 ms) or a run's copy (a second or so),
        behind at most a few others: a process silent for ANSWER_SECONDS is stalled (stopped,
        swapping, deadlocked), would hold every run placed there with it, and is ended."""
        try:
            status, value = channel.ask(message).result(timeout=ANSWER_SECONDS)
        except AnswerTimeout:
            channel.end()
            raise TrainingFailed(f"the training process did not answer within {ANSWER_SECONDS:.0f} s; "
                                 "press Reset to start a new run") from None
        if status == "error":
            raise TrainingFailed(value)
        return value

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.stdin.close()
                try:
                    self._process.wait(5)
                except subprocess.TimeoutExpired:
                    self._process.kill()


class TrainingProcesses:
    """The pool: `count` processes, started on first use (or by `start`)."""

    def __init__(self, count: int, threads: int | None = None):
        self.count = count
        self._threads = threads
        self._processes: list[TrainingProcess] = []
        self._keys = itertools.count()
        self._lock = threading.Lock()

    def _pool(self) -> list[TrainingProcess]:
        with self._lock:
            if not self._processes:
                threads = self._threads or torch.get_num_threads()   # as many torch threads as the app's runs
                self._processes = [TrainingProcess(threads) for _ in range(self.count)]
            return self._processes

    def start(self) -> None:
        """Start every process now (the app does, at launch: a process takes seconds to import torch)."""
        for process in self._pool():
            process.start()

    def place(self, data: bytes, options) -> Remote:
        """A run's copy (`serialise`d; its `options` as they were) in the process holding the fewest."""
        process = min(self._pool(), key=lambda p: p.runs)
        key = next(self._keys)
        generation = process.load(key, data)
        return Remote(process, key, generation, options)

    def close(self) -> None:
        for process in self._processes:
            process.close()


class Remote:
    """A run's copy in a training process, and what moves between it and the app's Run."""

    # what does not change while a run trains: the app's own objects stay (a cache may know them)
    KEPT = ("dataset", "probe_real", "device", "network_frame")

    def __init__(self, process: TrainingProcess, key: int, generation: int, options):
        self.process, self.key, self.generation = process, key, generation
        self.sent_options = options   # the live settings the copy has
        self._released = False

    def _request(self, *message):
        return self.process.request(message, self.generation)

    def advance(self, run, n: int, full: bool) -> dict:
        """`n` iterations there; `full`: with what a frame draws. Live settings changed here since
        the last chunk (explorer/training/live.py apply) go with it."""
        options = run.options
        progress = self._request("advance", self.key, n, None if options is self.sent_options else options, full)
        self.sent_options = options   # the object sent (or already there), not one set since
        return progress

    @staticmethod
    def take(run, progress: dict) -> int:
        """Copy a chunk's answer into the app's `run` (the caller holds the session's lock); the
        iterations done."""
        run.state.step = progress["step"]
        run.paused, run.warning = progress["paused"], progress["warning"]
        run.steps_per_second, run.chains_live = progress["steps_per_second"], progress["chains_live"]
        weights = progress.get("weights")
        if weights is not None:
            run.energy.load_state_dict(weights["energy"])         # in place: the optimisers' views stay
            run.generator.load_state_dict(weights["generator"])
            run.energy.config.langevin_step = weights["langevin_step"]
            if weights["ema"] is not None:
                run.state.ema.model.load_state_dict(weights["ema"])
            if weights["chains"] is not None:
                run.state.langevin.buffer = weights["chains"]
            run.history = run.history.with_news(progress["history"])
        return progress["done"]

    def fetch(self):
        """The whole run, taken back from the process (the copy there is forgotten)."""
        try:
            return deserialise(self._request("return", self.key))
        finally:
            self.release()

    def settle(self, run, returned) -> None:
        """`returned` (fetch) into the app's `run` (the caller holds the session's lock); live
        settings changed here since its last chunk are kept."""
        options = run.options
        run.__dict__.update({name: value for name, value in returned.__dict__.items() if name not in self.KEPT})
        if options is not self.sent_options:
            run.reconfigure(options)

    def drop(self) -> None:
        if self._released:
            return
        try:
            self._request("drop", self.key)
        except TrainingFailed:
            pass
        self.release()

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.process.forget(self.generation)


def progress_of(run, done: int, full: bool, seconds: float, history_sent: tuple) -> dict:
    """A chunk's answer (in the training process): see Remote.take; `seconds` it took there;
    `history_sent`: the history's mark (MetricHistory.mark) when the app's copy last had it all."""
    progress = {"done": done, "seconds": seconds, "step": run.step, "paused": run.paused, "warning": run.warning,
                "steps_per_second": run.steps_per_second, "chains_live": run.chains_live}
    if full:
        ema, langevin = run.state.ema, run.state.langevin
        progress["weights"] = {"energy": run.energy.state_dict(), "generator": run.generator.state_dict(),
                               "langevin_step": run.energy.config.langevin_step,
                               "ema": ema.model.state_dict() if ema is not None else None,
                               "chains": langevin.buffer if langevin is not None else None}
        progress["history"] = run.history.news_since(history_sent)
    return progress


# a GPU's runs train on their threads (the GPU does the work, not the interpreter)
_COUNT = 0 if torch.cuda.is_available() else training_processes()
PROCESSES = TrainingProcesses(_COUNT) if _COUNT else None
