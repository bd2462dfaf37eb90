"""Do two checkouts train the same? Digests of short runs' weights, samples and evaluations.

A change meant to leave every default as it was (a new option, off by default) must leave these
digests as they were. Run it in each checkout, on the same machine (float arithmetic differs
between CPUs and torch versions, so digests are compared, never stored), and compare the files:

    git archive BASE | tar -x -C /tmp/base
    (cd /tmp/base && PYTHONPATH=$PWD python benchmarks/bit_identity.py /tmp/base.json)
    PYTHONPATH=$PWD python benchmarks/bit_identity.py /tmp/new.json && diff /tmp/base.json /tmp/new.json
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

import numpy as np
import torch

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.training.run import Run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "runs", "benchmarks", "bit_identity.json")   # the file unless one is named
DEFAULT_OUTPUTS = (OUT,)   # tests/test_bench.py: never into benchmarks/

# (preset, steps, options given): the default ring, each entropy estimator, the grid (unit 2.83, a
# 4-layer generator), the Langevin baseline and the digits (64-D, tanh output, no prior)
CASES = [("ring", 200, {}), ("ring", 100, {"entropy": "pullaway"}), ("ring", 100, {"entropy": "knn"}),
         ("grid", 100, {"batch_size": 128}), ("lesson", 100, {}), ("ring-langevin", 30, {"langevin_steps": 5}),
         ("digits", 40, {"hidden": 64})]


def digest(run: Run) -> dict:
    weights = hashlib.sha256()
    named = {**{"energy." + k: v for k, v in run.energy.state_dict().items()},
             **{"generator." + k: v for k, v in run.generator.state_dict().items()}}
    for name, tensor in sorted(named.items()):
        weights.update(name.encode())
        weights.update(tensor.detach().cpu().numpy().tobytes())
    samples = hashlib.sha256(np.ascontiguousarray(run.samples(300, 5)).tobytes()).hexdigest()[:16]
    evaluation = {}
    if run.dataset.dim == 2:
        result = run.evaluate(samples=300, resolution=60, record=False, weights=False)
        evaluation = {k: v for k, v in result.items() if isinstance(v, float)}
    history = {k: hashlib.sha256(json.dumps(v).encode()).hexdigest()[:12] for k, v in run.history_record().items()}
    return {"weights": weights.hexdigest()[:16], "samples": samples, "evaluation": evaluation, "history": history}


def main(out: str) -> None:
    torch.set_num_threads(1)
    digests = {}
    for preset, steps, given in CASES:
        run = Run(resolve(preset_options(preset), {"steps": steps, **given}))
        while not run.done:
            run.advance(50)
        digests[f"{preset} {json.dumps(given, sort_keys=True)}"] = digest(run)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(digests, f, indent=1, sort_keys=True)
    print(f"wrote {out}: {len(digests)} runs")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else OUT)
