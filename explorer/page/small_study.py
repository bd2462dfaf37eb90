"""A visitor's small study: a few seeds of the page's settings, with and without the entropy term.

Each run is an ordinary training plus evaluation, `run_task` of explorer/studies/worker.py, the
function `python -m explorer.study` runs: the same Run, the same evaluation, the same record.
The runs go one at a time to one process of the study's own, fed by a thread of the page:

- a process, not a thread of the server: Stop ends the run under way at once (the process is
  ended), a run's Python never holds the server's interpreter lock, and run_task's one-thread
  setting of torch stays in that process;
- "spawn", as the study command's workers (a forked copy of a server whose torch threads run can
  hang): the process starts once per study, a few seconds, and runs every run of it;
- at the training threads' lower priority (capacity.lower_thread_priority), and holding one of
  the machine's places for training (turns.TURNS) while the study lasts, so one visitor's study
  never takes more than one run's share of the machine. Its process cannot wait in line between
  chunks as a Train does: when no place is free, a study is refused ("busy").

A finished run's record is added at once (`records`, `version`, `wait_change`); a run that fails
is a record too, with its reason; a process that dies is a failed run, and the next run gets a
new process. Closing the page stops its study (explorer/page/state.py).
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Mapping

from explorer.config.options import as_experiment, whole_number
from explorer.errors import UserInputError
from explorer.studies.engine import task_payload
from explorer.studies.spec import DEFAULT_METRICS, Study, Task
from explorer.studies.worker import STATUS_DONE, STATUS_FAILED, run_task
from explorer.training.capacity import lower_thread_priority
from explorer.training.turns import TURNS

MIN_SEEDS, MAX_SEEDS, DEFAULT_SEEDS = 1, 5, 3
SAMPLES = 2500                 # evaluation samples, as the study command's default
CONFIGURATION = "these settings"
WITHOUT = "entropy weight 0"
POLL_SECONDS = 0.1             # how often the feeding thread looks at Stop while a run trains
RUNNERS = multiprocessing.get_context("spawn")
RUNNING, FINISHED, STOPPED = "running", "finished", "stopped"


def small_study(options: Mapping, seeds) -> Study:
    """`seeds` seeds (the page's seed and the next ones) of `options`, each with the entropy term
    as set (weight 1 with the paper's estimator when it is off) and without it (weight 0)."""
    options = as_experiment(options)
    count = whole_number(seeds, "seeds", MIN_SEEDS, MAX_SEEDS)
    if options["sampler"] != "generator":
        raise UserInputError("a small study switches the generator's entropy term off and on: with Langevin "
                             "negatives there is no generator to regularise; choose the generator sampler")
    weight = options["entropy_weight"] or 1.0
    estimator = options["entropy"] if options["entropy"] != "none" else "batchnorm"
    methods = {f"entropy weight {weight:g} ({estimator})": {"entropy": estimator, "entropy_weight": weight},
               WITHOUT: {"entropy_weight": 0.0}}
    first = options["seed"]
    seed_list = tuple(range(first, first + count))
    tasks = tuple(Task(CONFIGURATION, method, seed, dict(options.changed(seed=seed, **changes)), SAMPLES)
                  for seed in seed_list for method, changes in methods.items())   # both methods, seed by seed
    return Study(name="your small study", description="", tasks=tasks, configurations=(CONFIGURATION,),
                 methods=tuple(methods), seeds=seed_list, metrics=DEFAULT_METRICS + ("train_seconds",))


def serve_runs(conn) -> None:
    """The study's process: run each task it is sent and send its record back; None ends it."""
    lower_thread_priority()
    try:
        for payload in iter(conn.recv, None):
            conn.send(run_task(payload))
    except (EOFError, OSError):   # the server went away
        pass


class SmallStudy:
    """A study's runs, one at a time in a process of its own, fed by a thread; records as they come."""

    def __init__(self, study: Study):
        self.study = study
        self.records: list[dict] = []
        self.state = RUNNING
        self.error: str | None = None        # the study itself failed (not one run)
        self.metric: str | None = None       # the metric the page shows
        self.started = self.ended = None       # time.monotonic() of the study's start and end
        self.last_finished: float | None = None   # ... and of its last run's end
        self.version = 0                     # grows with every record and at the end
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def total(self) -> int:
        return len(self.study.tasks)

    def start(self) -> None:
        TURNS.take_place(self)   # "busy" when no place is free
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="energylab-study", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:   # no thread to be had
            TURNS.give_back(self)
            raise

    def stop(self) -> None:
        """End the study: the run under way is ended at once, none other starts."""
        self._stop.set()

    def close(self, timeout: float = 5.0) -> None:
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_change(self, after: int, timeout: float) -> int:
        """The version once it is newer than `after`, or the current one after `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: self.version > after, timeout=timeout)
            return self.version

    def snapshot(self) -> list[dict]:
        with self._changed:
            return list(self.records)

    def _changed_now(self, record: dict | None = None) -> None:
        with self._changed:
            if record is not None:
                self.records.append(record)
                self.last_finished = time.monotonic()
            self.version += 1
            self._changed.notify_all()

    # ------------------------------------------------------------------ the feeding thread
    def _run(self) -> None:
        process = conn = None
        try:
            for task in self.study.tasks:
                if self._stop.is_set():
                    break
                if process is None or not process.is_alive():
                    process, conn = self._new_process(process, conn)
                conn.send(task_payload(task))
                record = self._wait(task, process, conn)
                if record is None:   # Stop
                    break
                self._changed_now(record)
        except Exception as e:  # noqa: BLE001 - the page must hear of it, not a dead thread
            self.error = f"the study stopped: {type(e).__name__}: {e}"
        finally:
            _end(process, conn, kill=self._stop.is_set() or self.error is not None)
            TURNS.give_back(self)
            self.ended = time.monotonic()
            self.state = STOPPED if self._stop.is_set() or self.error else FINISHED
            self._changed_now()

    def _new_process(self, old, old_conn):
        _end(old, old_conn, kill=True)
        conn, child_end = RUNNERS.Pipe()
        process = RUNNERS.Process(target=serve_runs, args=(child_end,), name="energylab-study-runs", daemon=True)
        process.start()
        child_end.close()
        return process, conn

    def _wait(self, task: Task, process, conn) -> dict | None:
        """The task's record; None on Stop; a failure record when its process died."""
        while not self._stop.is_set():
            if conn.poll(POLL_SECONDS):
                try:
                    return conn.recv()
                except (EOFError, OSError):
                    break
            elif not process.is_alive():
                break
        else:
            return None
        process.join(1.0)
        return {**task_payload(task), "status": STATUS_FAILED, "seconds": None,
                "reason": f"the run's process ended unexpectedly (exit code {process.exitcode}; out of memory?)"}

    # ------------------------------------------------------------------ progress
    def done(self) -> int:
        return sum(1 for r in self.snapshot() if r["status"] == STATUS_DONE)

    def seconds_left(self, now: float | None = None) -> float | None:
        """The runs left at the pace of those done (the process's start included), less the time the
        run under way has had; None before the first run ends."""
        finished = len(self.snapshot())
        if not finished or self.started is None or self.state != RUNNING:
            return None
        now = time.monotonic() if now is None else now
        last = self.last_finished if self.last_finished is not None else now
        per_run = (last - self.started) / finished
        return max(0.0, per_run * (self.total - finished) - (now - last))


def _end(process, conn, kill: bool) -> None:
    """Let the study's process end (or end it: Stop, a failure) and wait for it."""
    if process is None:
        return
    if not kill and process.is_alive():
        try:
            conn.send(None)
        except OSError:
            pass
        process.join(2.0)
    if process.is_alive():
        process.terminate()
    process.join(5.0)
    if process.is_alive():
        process.kill()
        process.join(1.0)
    conn.close()


def start(state, options: Mapping, seeds) -> SmallStudy:
    """The page's small study of `options`: one at a time per page (a running one must be stopped first)."""
    current = state.small_study
    if current is not None and current.running:
        raise UserInputError("this page's small study is still running: press Stop first")
    study = SmallStudy(small_study(options, seeds))
    study.start()
    if current is not None:
        current.close()
    state.small_study = study
    return study
