"""The Densities tab's costs (issue 6), in process, one torch thread, as `python -m explorer.train` runs.

    python -m benchmarks.densities_speed [--steps 5000] [--pairs lesson ring ...]

Prints:
- the entropy record's share of a ring run (`--preset ring`, 5,000 steps): the time spent in
  Run.entropy_record (grid entropy of 10,000 samples and the three estimators, every 250 steps),
  timed inside the run, against the whole run;
- the tab for each pretrained pair: the first drawing (p_data computed), a refresh (p_data cached),
  how much of it holds the session's lock (copying the two networks), and
  a drawing on the coarser grid used while training.
Run it alone: other processes on a 2-core machine change every figure here.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.measures import densities
from explorer.page.densities import DensityState, density_tab
from explorer.training.live import LiveSession
from explorer.training.run import Run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def entropy_share(steps: int) -> None:
    spent = {"seconds": 0.0, "calls": 0}
    record = Run.entropy_record

    def timed(self):
        started = time.perf_counter()
        try:
            return record(self)
        finally:
            spent["seconds"] += time.perf_counter() - started
            spent["calls"] += 1

    Run.entropy_record = timed
    try:
        run = Run(resolve(preset_options("paper"), {"steps": steps}))
        started = time.perf_counter()
        while not run.done:
            run.advance(100)
        total = time.perf_counter() - started
    finally:
        Run.entropy_record = record
    print(f"ring, {steps:,} steps: {total:.1f} s; entropy record {spent['calls']} x = {spent['seconds']:.2f} s "
          f"({100 * spent['seconds'] / total:.2f} % of the run, "
          f"{1000 * spent['seconds'] / max(spent['calls'], 1):.0f} ms each)")


def tab_times(pairs: list[str]) -> None:
    for name in pairs:
        session = LiveSession(device="cpu")
        session.load(os.path.join(ROOT, "assets", "pairs", name), name)
        state = DensityState()
        first = density_tab(session, state).seconds
        again = density_tab(session, state).seconds
        coarse = density_tab(session, state, resolution=densities.TRAINING_RESOLUTION).seconds
        if session.run.dataset.dim != 2:
            print(f"{name:<18} first {first:.2f} s, refresh {again:.2f} s, coarse {coarse:.2f} s (not 2-D: a message)")
            continue
        lock_started = time.perf_counter()
        with session.lock:
            densities.copy_pair(session.run)
        held = time.perf_counter() - lock_started
        print(f"{name:<18} first {first:.2f} s, refresh {again:.2f} s (the lock held {1000 * held:.1f} ms of it); "
              f"{densities.TRAINING_RESOLUTION} x {densities.TRAINING_RESOLUTION} as while training {coarse:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--pairs", nargs="*", default=["lesson", "lesson-no-entropy", "ring", "grid", "points",
                                                      "ring-langevin", "digits"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    tab_times(args.pairs)
    entropy_share(args.steps)


if __name__ == "__main__":
    main()
