"""One browser session's live training: a `Run` stepped by a background thread, frames handed out.

Why a thread: the page's handler must keep sending frames (and answer Stop) while training runs,
and figures are drawn on the other core while this thread trains (live frames, too, are made there,
from a copy of the pair: publish_aside). All model access happens
under `lock`, so the buttons (step, settings, reset) never see a half-updated pair. Training
runs in chunks of about CHUNK_SECONDS, so Stop takes effect within one chunk.

On a CPU the chunks themselves train in a training process (explorer/training/processes.py), off
this process's interpreter lock: the thread asks for each chunk there and copies back what frames
draw; when training stops the whole run comes back. Without training processes (or on a GPU) the
thread trains the run itself.

Each chunk is a turn granted by explorer/training/turns.py (a place among the runs training on
the machine, then a core): beyond the places a run waits in line, and `waiting` says where.

A run whose page has stopped reading its frames (a closed tab, a lost connection, a client that
stopped reading or disconnected) ends: the page's stream calls `watched` whenever it reads a
frame, and a run not watched for ABANDON_SECONDS stops and drops its pair and frames (`closed`
says why), in line or training, for a browser and an API client alike.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from explorer.config.options import Experiment, as_experiment
from explorer.errors import UserInputError
from explorer.measures.probes import Frame
from explorer.training.capacity import REQUESTS_FIRST, lower_thread_priority, setting
from explorer.training.memory import release_free_memory
from explorer.training.processes import PROCESSES, Remote, TrainingFailed, TrainingProcesses, serialise
from explorer.training.replay import ReplayStore
from explorer.training.run import Run
from explorer.training.turns import TURNS, Turns, Waiting

CHUNK_SECONDS = 0.05     # training between two looks at the stop flag
FRAME_SECONDS = 0.25     # a new frame at most this often while training (4 a second)
FULL_RATE_RUNS = 2       # up to this many runs training (or as many as cores, if more), each gets FRAME_SECONDS
MAX_CHUNK = 2000
COME_BACK_SECONDS = 10.0   # Train after Pause waits this long at most for the paused run to come back
# live frames are made here, from a copy of the pair, while the training thread goes on: one a run at
# a time (a run whose last frame is still being made skips the next), a thread a core for them all
log = logging.getLogger("energylab")
FRAMES = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="frames")


# a page that read no frame for this long is gone: its run ends (with detection, within a minute)
ABANDON_SECONDS = setting("ENERGYLAB_ABANDON_SECONDS", 30.0, 0.1, 3600)


def frame_interval(training: int, cores: int = 1) -> float:
    """Seconds between frames of a run while `training` runs train on `cores`: FRAME_SECONDS while
    at most FULL_RATE_RUNS (or `cores`) train, longer beyond, so that many users at once share the
    frames' CPU (and the GIL) rather than starve training and new visitors' pages (8 runs on 2
    cores: 1 frame a second each)."""
    return FRAME_SECONDS * max(1.0, training / max(FULL_RATE_RUNS, cores))


class LiveSession:
    """The run a browser session sees, and the thread that trains it."""

    def __init__(self, device: str = "auto", turns: Turns = TURNS, abandon_seconds: float | None = None,
                 processes: TrainingProcesses | None = PROCESSES):
        self.device = device
        self.turns = turns
        self.processes = processes        # where a CPU run trains (explorer/training/processes.py); None: here
        self.holder: object = self        # whose place it trains in (the Compare tab's two runs: their comparison's)
        self.abandon_seconds = ABANDON_SECONDS if abandon_seconds is None else abandon_seconds
        self._last_read = time.monotonic()
        self._abandoned = False
        self._closing = False            # the page is closing: a run in a training process is dropped there
        self.closed: str | None = None    # why the run was dropped without the page asking (abandoned)
        self.run: Run | None = None
        self.source = ""                 # what the current pair is: "live run", or a pretrained name
        self.ended = False               # Stop or a loaded pair: the next Train starts a new run
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._halted = threading.Event()   # set when the training loop has exited
        self._end_requested = False        # Stop: finish the run once the loop exits
        self._thread: threading.Thread | None = None
        self._new_frame = threading.Condition()
        self._frame: Frame | None = None
        self._frame_id = 0
        self.error: str | None = None    # an unexpected failure in the training thread
        self.throughput: float | None = None  # steps/s of the last training, frames included
        self.layers = {"arrows": False, "latent": False}  # optional probes, computed only when shown
        self.replay = ReplayStore()      # the frames shown so far, to scrub back through (explorer/training/replay.py)

    # ------------------------------------------------------------------ runs
    @property
    def training(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def new_run(self, options: Experiment, dataset=None, fine: bool = True) -> Run:
        """A fresh run from checked options (it replaces the current one, stopping it first);
        `dataset`: its data when already read (a page's points), else built from the options;
        `fine`: its first frame at full resolution (else a live frame's)."""
        self.stop(wait=True)
        run = Run(options, device=self.device, dataset=dataset)   # builds the data: UserInputError on bad input
        run.state.build_optimisers()   # a run made to train builds them now, not inside its first frame
        with self.lock:
            self.run, self.source, self.ended, self.throughput = run, "live run", False, None
            self.closed = None
            self.replay.clear()
        self.publish(fine=fine)
        return run

    def load(self, folder: str, name: str, points_path: str | None = None, points=None) -> Run:
        """Show a saved pair (pretrained or uploaded); `points`: its points' Dataset, when already read."""
        self.stop(wait=True)
        run = Run.from_checkpoint(folder, device=self.device, points_path=points_path, points=points)
        with self.lock:
            self.run, self.source, self.ended, self.throughput = run, name, True, None
            self.closed = None
            self.replay.clear()
        self.publish(fine=True)
        return run

    @property
    def ending(self) -> bool:
        """Stop was pressed: the run is ended, or will be once its last chunk is done."""
        return self.ended or self._end_requested

    def needs_new_run(self, options: Experiment) -> bool:
        """Train continues the current run unless it ended, finished, or a setting that shapes it
        (data, networks, sampler, seed) differs from the controls."""
        run = self.run
        if run is None or self.ending or run.done:
            return True
        return run.options.shapes_differ(options)

    def apply(self, options: Experiment) -> bool:
        """The run takes `options`' live settings (entropy, its weight, learning rates, steps)
        between steps; returns whether any changed."""
        if self.run is None:
            return False
        with self.lock:
            return self.run.reconfigure(as_experiment(options))

    # ------------------------------------------------------------------ training
    def start(self) -> None:
        """Train the current run in the background until it is done, stopped or paused."""
        if self.run is None:
            raise UserInputError("nothing to train: press Reset or choose a pair first")
        self.watched()   # the page that pressed Train reads its frames from now on
        if self.training:
            if not self._stop.is_set():
                return   # it trains already
            # Pause pressed just before: its run is still coming back from its training process
            # (a chunk and the run's copy, up to a second); without waiting, this Train was lost
            self._thread.join(COME_BACK_SECONDS)
            if self.training or self.run is None:
                return
        with self.lock:
            self.run.resume()
        self._stop.clear()
        self._halted.clear()
        self._end_requested = self._abandoned = self._closing = False
        self.error = self.closed = None
        self.turns.join(self, self.holder)   # a place, or the back of the line: never refused
        self._thread = threading.Thread(target=self._train, name="energylab-train", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:   # no thread to be had: leave the line
            self.turns.leave(self)
            raise

    def watched(self) -> None:
        """The page read a frame (or a status while its run waits): it is still there."""
        self._last_read = time.monotonic()

    def _giving_up(self) -> bool:
        """Stop, or the page stopped reading for abandon_seconds."""
        if not self._stop.is_set() and time.monotonic() - self._last_read > self.abandon_seconds:
            self._abandoned = True
            self._stop.set()
        return self._stop.is_set()

    def waiting(self) -> Waiting | None:
        """The run's place in the line, while it waits for a place; None otherwise."""
        return self.turns.waiting(self.holder) if self.training else None

    def _train(self) -> None:
        lower_thread_priority()
        run, last_frame, chunk = self.run, 0.0, 10
        framing: Future | None = None   # the live frame being made aside, if any
        remote: Remote | None = None    # the run's copy in a training process, once it has had a turn
        use_process = self.processes is not None and run.device == "cpu"
        began, first_step = 0.0, None
        try:
            while not self._giving_up() and not run.done and not run.paused:
                REQUESTS_FIRST.wait_turn(self._stop)   # a page being opened goes first
                with self.turns.turn(self, self._giving_up) as granted:   # a place, then a core
                    if not granted:
                        break
                    if use_process and remote is None:   # placed at its first turn, not while it waits in line
                        remote = self._place(run)
                        use_process = remote is not None
                    frame_due = (time.perf_counter() - last_frame >= frame_interval(self.turns.in_use, self.turns.cores)
                                 and (framing is None or framing.done()))
                    started = time.perf_counter()
                    if remote is None:
                        with self.lock:
                            done = run.advance(chunk)
                        took = time.perf_counter() - started
                    else:   # trained there, outside the lock: the views read the pair meanwhile
                        progress = remote.advance(run, chunk, full=frame_due)
                        with self.lock:
                            done = remote.take(run, progress)
                        took = progress["seconds"]   # its own time, not the wait for the process
                if done and took > 0:  # aim each chunk at CHUNK_SECONDS
                    chunk = max(1, min(MAX_CHUNK, round(chunk * CHUNK_SECONDS / took)))
                if first_step is None:   # the first chunk: speed from here, not from the wait in line
                    began, first_step = started, run.step - done
                self.throughput = (run.step - first_step) / (time.perf_counter() - began)
                if frame_due:
                    # made aside (publish_aside): EnergyLab's refined, resampled samples take ~0.05 s a
                    # frame, which this thread would otherwise spend not training
                    last_frame = time.perf_counter()
                    framing = self.publish_aside()
                    release_free_memory()
        except Exception as e:  # noqa: BLE001 - the page must hear of it, not a dead thread
            self.error = f"training stopped: {e}" if isinstance(e, TrainingFailed) else \
                f"training stopped: {type(e).__name__}: {e}"
        finally:
            try:
                if remote is not None:
                    self._come_back(remote, run)
            finally:
                self.turns.leave(self)    # the place goes to the first in line at once
                self._halted.set()        # training has stopped: Stop can answer now
            if framing is not None:   # the last live frame before the final one, not after it
                framing.exception()
            if self._abandoned:
                self._drop(f"this run ended: the page read none of its frames for {self.abandon_seconds:.0f} s")
            else:
                if self._end_requested:
                    self._finish_run()
                self.publish(fine=True)   # the last frame, at full resolution

    def _place(self, run: Run) -> Remote | None:
        """The run's copy in a training process; None (it trains on this thread) if it cannot go
        there (a run torch cannot serialise, a process that cannot start)."""
        try:
            with self.lock:
                data, options = serialise(run), run.options
            return self.processes.place(data, options)   # outside the lock: seconds, if the process starts
        except Exception:  # noqa: BLE001 - training here is slower, not wrong
            log.warning("a run trains on its thread: it could not go to a training process", exc_info=True)
            return None

    def _come_back(self, remote: Remote, run: Run) -> None:
        """The run's copy in its training process back into `run` (dropped, for an abandoned or
        closed page's run)."""
        if self._abandoned or self._closing:
            remote.drop()
            return
        try:
            returned = remote.fetch()   # outside the lock: the views read the pair meanwhile
            with self.lock:
                remote.settle(run, returned)
        except Exception as e:  # noqa: BLE001 - its process stopped: the weights of its last frame are here,
            # its optimisers and random streams are not, so the run ends (Train starts a new one)
            remote.release()
            with self.lock:
                run.paused, self.ended = True, True
            self.error = self.error or f"training stopped: {e}"

    def stop(self, wait: bool = False, timeout: float = 5.0) -> None:
        """Ask the training thread to stop after its current chunk (optionally wait for it)."""
        self._stop.set()
        self.turns.wake()   # a run waiting in line leaves it now
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def end(self, timeout: float = 5.0) -> int | None:
        """Stop for good: the next Train starts a new run; small point sets get their best pair back.
        Returns as soon as training has halted (one chunk at most); the training thread then
        sends the last frame itself. Returns the step training halted at."""
        if self.training:
            self._end_requested = True
            self.stop()
            self._halted.wait(timeout)
            run = self.run   # None if the page was closed meanwhile
            return run.step if run is not None else None
        self._finish_run()
        self.publish(fine=True)
        return self.run.step if self.run is not None else None

    def close(self) -> None:
        """The page is gone: stop training and drop the pair, its data and its frames."""
        self._closing = True
        self.stop(wait=True)
        self._drop(None)

    def _drop(self, why: str | None) -> None:
        with self.lock:
            self.run = None
            self.ended, self.closed = True, why
            self.replay.clear()
        with self._new_frame:   # a stream still waiting for a frame hears of it
            self._frame, self._frame_id = None, self._frame_id + 1
            self._new_frame.notify_all()
        release_free_memory(force=True)

    def _finish_run(self) -> None:
        with self.lock:
            if self.run is not None and not self.ended:
                self.ended = True
                self.run.finish()

    def step(self, n: int, update: str = "both") -> int:
        """n iterations now (the Step buttons); refused while the thread trains."""
        if self.run is None:
            raise UserInputError("nothing to step: press Reset or choose a pair first")
        if self.training:
            raise UserInputError("training is running: press Pause first, then Step")
        with self.lock:
            self.run.resume()
            done = self.run.advance(n, update=update, record_every=1)
        self.publish(fine=True)
        return done

    # ------------------------------------------------------------------ frames
    def state_word(self, training: bool) -> str:
        """What the run is doing, for the status line: training; finished (it reached its planned
        steps); stopped (Stop ended it, or it is a saved pair: Train starts a new run); ready (a new
        run, not stepped yet); paused (between steps: Pause, a Step button or a divergence)."""
        if training:
            return "training"
        if self.run.done:
            return "finished"
        if self.ending:
            return "stopped"
        if self.run.step == 0 and not self.run.paused:
            return "ready"
        return "paused"

    def _frame_info(self, fine: bool) -> dict:
        # the training thread's own last frame is `fine`: it has stopped training by then
        training = self.training and not self._stop.is_set() and not fine
        info = {"source": self.source, "training": training, "state": self.state_word(training),
                "error": self.error}
        if self.throughput:
            info["steps_per_second"] = self.throughput
        return info

    def publish(self, fine: bool) -> None:
        if self.run is None:
            return
        with self.lock:
            frame = self.run.frame(fine=fine, info=self._frame_info(fine), **self.layers)
            self.replay.add(frame)
        self._hand_out(frame)

    def publish_aside(self) -> Future | None:
        """A live frame made on FRAMES from a copy of the pair taken now, so that training goes on
        while it is made; it is handed out when done (unless the run has gone by then)."""
        run = self.run
        if run is None:
            return None
        with self.lock:
            make = run.frame_maker(fine=False, info=self._frame_info(False), **self.layers)
        return FRAMES.submit(self._deliver, run, make)

    def _deliver(self, run: Run, make) -> None:
        try:
            frame = make()
        except Exception as e:  # noqa: BLE001 - the page must hear of it, not a silent thread
            self.error = f"a frame failed: {type(e).__name__}: {e}"
            return
        with self.lock:
            # closed, or another run since: of no run shown; stopped since: Stop's own answer and the
            # last frame say where training ended, not this look from before; a newer frame out already
            newer_out = self._frame is not None and self._frame.step > frame.step
            if self.run is not run or self._stop.is_set() or newer_out:
                return
            self.replay.add(frame)
        self._hand_out(frame)

    def _hand_out(self, frame: Frame) -> None:
        with self._new_frame:
            self._frame, self._frame_id = frame, self._frame_id + 1
            self._new_frame.notify_all()

    def latest(self) -> tuple[Frame | None, int]:
        return self._frame, self._frame_id

    def wait_frame(self, after: int, timeout: float) -> tuple[Frame | None, int]:
        """The newest frame once it is newer than `after`, or the current one after `timeout`."""
        with self._new_frame:
            self._new_frame.wait_for(lambda: self._frame_id > after, timeout=timeout)
            return self._frame, self._frame_id
