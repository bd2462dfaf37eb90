"""Run a study: configurations x methods x seeds, each an ordinary training plus evaluation.

    python -m explorer.study smoke --out runs/smoke                  # a shipped suite
    python -m explorer.study my-study.toml --out runs/mine --workers 2
    python -m explorer.study scoreboard --out runs/scoreboard --seeds 0-19
    python -m explorer.study scoreboard --out runs/scoreboard --cluster tcp://host:8786   # Dask
    python -m explorer.study --list-suites

OUT gets runs.jsonl (one line a run: options, seed, every metric, seconds, machine), summary.json
(mean, standard error, 95 % interval and count per configuration and method), summary.md (the
table, with published rows where the suite names them) and plots.png / plots.html. Running it
again on the same OUT resumes: finished runs are not run again.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

from tqdm import tqdm

from explorer.command_line import ArgumentParser, main_guard
from explorer.errors import UserInputError
from explorer.studies import engine, plots
from explorer.studies.spec import load_study, suite_names
from explorer.studies.summary import markdown, summarise
from explorer.studies.worker import STATUS_DIVERGED, STATUS_DONE

MAX_WORKERS = 256


def parse_args(argv=None):
    parser = ArgumentParser(prog="explorer.study", description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", nargs="?", help="a shipped suite's name or a .toml file")
    parser.add_argument("--out", help="the study's folder (default runs/study-<name>)")
    parser.add_argument("--seeds", help="seeds instead of the spec's, e.g. 0-19 or 0,3,5")
    parser.add_argument("--workers", type=int, default=2,
                        help="runs at once on this machine, one torch thread each (default 2)")
    parser.add_argument("--cluster", help="address of a running Dask scheduler (tcp://HOST:8786) to run on instead")
    parser.add_argument("--retry-failed", action="store_true", help="run failed or diverged runs again")
    parser.add_argument("--summary-only", action="store_true", help="write the summary of what OUT holds; run nothing")
    parser.add_argument("--list-suites", action="store_true", help="list the shipped suites and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def write_summary(study, folder: str) -> dict:
    records = engine.read_records(folder)
    summary = summarise(study, records)
    _write(os.path.join(folder, "summary.json"), json.dumps(summary, indent=1))
    _write(os.path.join(folder, "summary.md"), markdown(study, summary))
    plots.write_plots(study, records, folder)
    return summary


def _write(path: str, text: str) -> None:
    """Whole or not at all: a kill mid-write leaves the previous file, never half of one."""
    with open(path + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".part", path)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.list_suites:
        for name in suite_names():
            study = load_study(name)
            print(f"{name:<12} {len(study.tasks):>5} runs  {study.description}")
        return
    if not args.spec:
        raise UserInputError("name a suite or a .toml file (see --list-suites)")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UserInputError(f"--workers must be between 1 and {MAX_WORKERS}, got {args.workers}")
    study = load_study(args.spec, args.seeds)   # every run checked before anything is written
    folder = args.out or os.path.join("runs", f"study-{study.name}")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UserInputError(f"--out {folder}: cannot create this folder ({e.strerror or e})") from None
    _write(os.path.join(folder, "spec.toml"), study.text)
    todo = [] if args.summary_only else engine.pending(study.tasks, engine.read_records(folder), args.retry_failed)
    skipped = len(study.tasks) - len(todo)
    print(f"study {study.name}: {len(study.tasks)} runs, {skipped} already in {folder}, {len(todo)} to run"
          + (f" on {args.cluster}" if args.cluster else f" with {args.workers} workers"), file=sys.stderr)
    counts = {"failed": 0}
    start = time.perf_counter()
    with tqdm(total=len(todo), unit="run", file=sys.stderr, disable=args.quiet or not todo,
              desc=study.name, mininterval=0.5) as bar:
        def on_record(record: dict) -> None:
            if record["status"] != STATUS_DONE:
                counts["failed"] += 1
                tqdm.write(f"{record['key']}: {record['status']}: {record.get('reason', '')}", file=sys.stderr)
            bar.set_postfix(failed=counts["failed"], refresh=False)
            bar.update(1)
        if todo:
            engine.run_tasks(todo, folder, workers=args.workers, cluster=args.cluster, on_record=on_record)
    summary = write_summary(study, folder)
    done = sum(g["done"] for g in summary["groups"])
    print(f"wrote {folder}/summary.md: {done} of {len(study.tasks)} runs done, {counts['failed']} failed "
          f"this time ({STATUS_DIVERGED} runs count as failed), {time.perf_counter() - start:.0f} s",
          file=sys.stderr)


def _stop(signum, frame) -> None:
    # SIGTERM (kill, a cluster's job ending) as Ctrl-C: unwinds through the engine's pool, which ends
    # its workers; Python's default would end this process alone and leave them training
    raise KeyboardInterrupt


def run() -> None:
    """The console script (`energylab-study`) and `python -m explorer.study`."""
    signal.signal(signal.SIGTERM, _stop)
    main_guard(main, "explorer.study")


if __name__ == "__main__":
    run()
