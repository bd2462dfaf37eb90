"""A run trained to its last step and measured: what `explorer.train` writes to metrics.json.

The command line and the studies (explorer/studies) both train through here, so a study's run is
exactly the run `python -m explorer.train` makes with the same options.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from explorer.errors import UserInputError
from explorer.training.run import Run

CHUNK = 100   # steps between progress reports (and checks for divergence)


def train_to_completion(run: Run, progress: Callable[[int], None] | None = None,
                        samples: int = 2500) -> tuple[dict, int | None]:
    """Train `run` to its planned steps, keep its best pair (small point sets), evaluate it.

    Returns (metrics, selected_step): the evaluation of `samples` samples (seed 0) with the training's
    figures beside it; selected_step is the step of the pair kept, or None for the last one.
    A run that diverges past recovery raises UserInputError with the run's own warning."""
    start = time.perf_counter()
    while not run.done:
        done = run.advance(CHUNK)
        if progress is not None:
            progress(done)
        if run.warning:
            raise UserInputError(run.warning)
    # train_seconds (and steps_per_second): every iteration, with `refine` its K Langevin steps on
    # the negatives, and the progress evaluations (whose samples are refined too)
    seconds = time.perf_counter() - start
    selected_step = run.finish()
    start = time.perf_counter()
    metrics = run.evaluate(samples=samples, record=False)
    if run.options["refine"]:
        # what sampling a refined pair costs: the final evaluation's seconds, refining its samples
        # included (K energy gradients each). Only then: a timing in every run's metrics would be
        # one more value that differs between two runs of one seed
        metrics["evaluate_seconds"] = round(time.perf_counter() - start, 2)
    if selected_step is not None:
        metrics["selected_step"] = selected_step  # the pair kept: best validation NLL
    metrics.update({"train_seconds": round(seconds, 2), "steps": run.step,
                    "steps_per_second": round(run.step / max(seconds, 1e-9), 1), "device": run.device,
                    # how many iterations ran compiled (--compile; uncovered or failed: 0, eager)
                    "compile": run.options["compile"], "compiled_steps": run.state.compiled_steps})
    return metrics, selected_step
