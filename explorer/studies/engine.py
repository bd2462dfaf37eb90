"""Running a study's tasks: in parallel on this machine, or on an existing Dask cluster.

Local runs go to a pool of worker processes (one torch thread each); `cluster` hands the same
tasks to a Dask scheduler (`distributed`, an optional install) instead. Either way each finished
run is appended at once to the study's runs.jsonl, so a study stopped half-way resumes where it
was: a run whose key is already there is not run again. No scheduler, queue or protocol of our
own: the pool is the standard library's, the cluster is Dask's.
"""
from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator

from explorer.errors import UserInputError
from explorer.studies.spec import Task
from explorer.studies.worker import STATUS_DONE, run_task

RUNS_FILE = "runs.jsonl"
DASK_INSTALL = "pip install 'distributed>=2024.1'"


def task_payload(task: Task) -> dict:
    return {"key": task.key, "configuration": task.configuration, "method": task.method, "seed": task.seed,
            "options": task.options, "samples": task.samples, "heldout": task.heldout}


def read_records(folder: str) -> list[dict]:
    """The runs a study folder holds (a line cut short by a kill is skipped)."""
    path = os.path.join(folder, RUNS_FILE)
    if not os.path.exists(path):
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def pending(tasks: Iterable[Task], records: list[dict], retry_failed: bool = False) -> list[Task]:
    """Tasks with no finished record (failed ones too when `retry_failed`)."""
    finished = {r["key"] for r in records if r.get("status") == STATUS_DONE or not retry_failed}
    return [t for t in tasks if t.key not in finished]


def _local(payloads: list[dict], workers: int) -> Iterator[dict]:
    """Each record as its run finishes. The pool's exit (the study done, or stopped: Ctrl-C, SIGTERM,
    see explorer/study.py) terminates its workers, so no worker trains on for a study that is gone."""
    # spawn, not fork: a forked copy of a process that already runs torch's thread pools can hang
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=workers) as pool:   # Pool.__exit__ is terminate()
        yield from pool.imap_unordered(run_task, payloads, chunksize=1)


def connect(address: str):
    """A Dask client for the cluster at `address` (a clear error without the optional install)."""
    try:
        from distributed import Client
    except ImportError:
        raise UserInputError(f"--cluster needs Dask's distributed scheduler: {DASK_INSTALL}") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise UserInputError(f"--cluster {address}: cannot reach a Dask scheduler there ({e})") from None


def _cluster(payloads: list[dict], address: str) -> Iterator[dict]:
    from distributed import as_completed
    client = connect(address)
    try:
        futures = [client.submit(run_task, p, key=f"energylab-{p['key']}", pure=False) for p in payloads]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()


def run_tasks(tasks: list[Task], folder: str, *, workers: int = 2, cluster: str | None = None,
              on_record: Callable[[dict], None] | None = None) -> list[dict]:
    """Run `tasks`, appending each record to folder/runs.jsonl as it finishes; returns them."""
    payloads = [task_payload(t) for t in tasks]
    results = _cluster(payloads, cluster) if cluster else _local(payloads, workers)
    records = []
    with open(os.path.join(folder, RUNS_FILE), "a", encoding="utf-8") as log:
        for record in results:
            log.write(json.dumps(record, sort_keys=True) + "\n")
            log.flush()
            records.append(record)
            if on_record is not None:
                on_record(record)
    return records
