"""One run of a study, in whatever process runs it (a local worker or a Dask worker).

A run is exactly `python -m explorer.train` with the task's options followed by the evaluation
`explorer.evaluate` makes of the saved pair (2,500 samples unless the study says otherwise,
seed 0): the same Run, the same training loop (explorer/training/to_completion.py), the same
evaluate_pair. It returns one JSON-ready record and never raises: a failure is a record too.
"""
from __future__ import annotations

import gc
import math
import os
import platform
import time

import numpy as np
import torch

from explorer.data.points import load_points
from explorer.errors import UserInputError
from explorer.measures import evaluation, metrics
from explorer.training.run import Run
from explorer.training.to_completion import train_to_completion

STATUS_DONE, STATUS_FAILED, STATUS_DIVERGED = "done", "failed", "diverged"


def machine() -> dict:
    """What made a number: CPU, its vector units (a seed's weights differ between AVX2 and
    AVX-512), torch, threads."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"host": platform.node(), "cpu": cpu, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version()}


def _clean(value):
    """JSON has no NaN or infinity: such a metric is recorded as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def heldout_metrics(run: Run, heldout: str, samples: int) -> dict:
    """What `explorer.evaluate DIR --points HELDOUT` reports (the points standardised as the
    training points were), and a Gaussian mixture's held-out NLL on the same split for reference."""
    dataset = run.dataset
    points = load_points(heldout).astype(np.float64)
    if dataset.offset is not None:
        points = (points - dataset.offset) / dataset.scale
    points = points.astype(np.float32)
    result = evaluation.evaluate_pair(run.energy, run.sampling_generator, run.options, None, samples=samples, seed=0,
                                      heldout=points, bounds=dataset.bounds)
    out = {"nll": result.get("nll"), "log_z": result.get("log_z"), "mass_outside": result.get("mass_outside")}
    if dataset.points is not None and out["nll"] is not None:
        out["nll_gmm"], out["gmm_components"] = metrics.gaussian_mixture_nll(dataset.points, points)
        out["nll_gap_gmm"] = out["nll"] - out["nll_gmm"]
    return out


def run_task(task: dict) -> dict:
    """Train and evaluate one task ({"key", "configuration", "method", "seed", "options", "samples"})."""
    torch.set_num_threads(1)   # one thread a run: runs, not threads, share the machine's cores
    record = {k: task[k] for k in ("key", "configuration", "method", "seed", "options")}
    start = time.perf_counter()
    try:
        run = Run(task["options"], device="cpu")
        metrics, _ = train_to_completion(run, samples=task["samples"])
        if task.get("heldout"):
            metrics.update(heldout_metrics(run, task["heldout"], task["samples"]))
        record.update(status=STATUS_DONE, metrics=_clean(metrics))
    except UserInputError as e:
        status = STATUS_DIVERGED if "diverged" in str(e) else STATUS_FAILED
        record.update(status=status, reason=str(e))
    except Exception as e:  # noqa: BLE001  (a study goes on; the reason is recorded)
        record.update(status=STATUS_FAILED, reason=f"{type(e).__name__}: {e}")
    finally:
        run = None
        gc.collect()
    record["seconds"] = round(time.perf_counter() - start, 3)
    record["machine"] = machine()
    record["worker"] = {"pid": os.getpid(), "resident_mb": resident_mb()}   # memory stays flat across runs?
    return record


def resident_mb() -> float | None:
    """This process's resident memory now (Linux), in MB."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None
