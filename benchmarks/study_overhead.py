"""What a study costs beyond its runs: 100 runs of about a second each, with 2 workers.

    python -m benchmarks.study_overhead [--runs 100] [--workers 2]

Prints the wall time, the time the runs themselves took (each run's own clock, summed and divided
by the workers), the share of the wall time spent outside the runs (target: under 10 %), and each
worker's resident memory over its runs (target: flat). Run it alone: two processes share only two
cores here. The figures go to docs/speed.md.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

from explorer.studies import engine
from explorer.studies.spec import load_study

DEFAULT_OUTPUTS = ()   # prints its figures; writes only in a temporary folder (tests/test_bench.py)
SPEC = """description = "100 one-second runs: the study machinery's own cost"
seeds = "0-{last}"
samples = 500
[base]
steps = {steps}
batch_size = 64
hidden = 32
[configurations]
ring = {{ dataset = "ring" }}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=400, help="training steps a run (about a second here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "overhead.toml")
        with open(path, "w") as f:
            f.write(SPEC.format(last=args.runs - 1, steps=args.steps))
        study = load_study(path)
        start = time.perf_counter()
        records = engine.run_tasks(list(study.tasks), folder, workers=args.workers)
        wall = time.perf_counter() - start
    inside = sum(r["seconds"] for r in records) / args.workers
    print(f"{len(records)} runs, {args.workers} workers: wall {wall:.1f} s; runs {inside:.1f} s a worker "
          f"(median run {sorted(r['seconds'] for r in records)[len(records) // 2]:.2f} s); "
          f"outside the runs: {100 * (1 - inside / wall):.1f} % of the wall time (target < 10 %)")
    by_worker: dict[int, list[float]] = {}
    for record in records:
        by_worker.setdefault(record["worker"]["pid"], []).append(record["worker"]["resident_mb"])
    for pid, memory in by_worker.items():
        tail = memory[len(memory) // 2:]
        print(f"worker {pid}: {len(memory)} runs, resident {memory[0]:.0f} MB after its first run, "
              f"{memory[-1]:.0f} MB after its last (second half's range {min(tail):.0f}-{max(tail):.0f} MB)")


if __name__ == "__main__":
    main()
