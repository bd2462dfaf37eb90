"""A training process (explorer/training/processes.py): holds runs' copies and trains their chunks.

`python -m explorer.training.process_main THREADS`, started by the app; reads requests from stdin
and answers each on stdout (length-prefixed pickles, from the app only), once it has said it is
ready:
    ("load", key, serialised Run)     keep a copy                      -> None
    ("advance", key, n, options, full) n iterations (options: new live settings, or None)
                                                                       -> processes.progress_of
    ("return", key)                   the run, serialised, and forget it -> bytes
    ("drop", key)                     forget it                        -> None
An error answers ("error", words); the process goes on.
"""
from __future__ import annotations

import os
import sys
import time


def copy_of(runs: dict, key: int):
    """The run's copy here; a copy placed in a process that died since (and was started afresh) is gone."""
    if key not in runs:
        raise LookupError("this run's copy is gone with its training process; press Reset to start a new run")
    return runs[key]


def serve(requests, answers) -> None:
    from explorer.training.memory import release_free_memory
    from explorer.training.processes import deserialise, progress_of, read_message, serialise, write_message
    from explorer.training.run import Run  # noqa: F401 - what the runs unpickle into, imported before the app waits

    write_message(answers, ("ready", None))
    runs = {}
    history_sent = {}   # key -> where the app's copy of the run's history stands (MetricHistory.mark)
    while True:
        try:
            message = read_message(requests)
        except EOFError:   # the app has gone
            return
        kind, key = message[0], message[1]
        try:
            if kind == "load":
                runs[key], answer = deserialise(message[2]), None
                history_sent[key] = runs[key].history.mark()   # the app has what it sent
            elif kind == "advance":
                run = copy_of(runs, key)
                n, options, full = message[2:]
                if options is not None:
                    run.reconfigure(options)
                started = time.perf_counter()
                done = run.advance(n)
                answer = progress_of(run, done, full, time.perf_counter() - started, history_sent[key])
                if full:   # the app's copy now has every row
                    history_sent[key] = run.history.mark()
                release_free_memory()   # at most every few seconds
            elif kind == "return":
                answer = serialise(copy_of(runs, key))
                del runs[key], history_sent[key]
                release_free_memory(force=True)
            elif kind == "drop":
                runs.pop(key, None)
                history_sent.pop(key, None)
                answer = None
                release_free_memory(force=True)
            else:
                raise ValueError(f"unknown request {kind!r}")
            reply = ("ok", answer)
        except Exception as e:  # noqa: BLE001 - the run's page must hear of it; the process serves the others
            reply = ("error", f"{type(e).__name__}: {e}")
        write_message(answers, reply)


def main() -> None:
    # the protocol has stdout to itself: anything printed goes to stderr, the app's log
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from explorer.command_line import set_threads
    from explorer.training.capacity import TRAINING_NICE
    from explorer.training.memory import limit_heaps

    limit_heaps()
    set_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    try:   # as the app's training threads: pages, and browsers on the same machine, first
        os.nice(TRAINING_NICE)
    except (AttributeError, OSError):
        pass
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
