"""The generator's real entropy H(p_G) in 2-D, beside what each entropy estimator reports.

The generator minimises E[E(G(z))] - H(p_G) (models/entropy.py), and every estimator of H it can
use is a stand-in: the paper's batch-norm surrogate (a sum over BN scales gamma, not an entropy of
the samples at all), the Kozachenko-Leonenko kNN estimate on one batch, and EBGAN's pull-away term
(a diversity score, not in nats). In 2-D the real H(p_G) can be measured from many samples on a
grid, so a run records both, every PROGRESS_EVERY steps (explorer/training/run.py):

- entropy_grid: the histogram plug-in estimate of N = ENTROPY_SAMPLES generator samples,
      H ~= -sum_i p_i log(p_i / Delta) + (M - 1) / (2 N)
  p_i the share of samples in cell i, Delta the cell area, M the occupied cells; the last term is
  the Miller-Madow correction of the plug-in's downward bias;
- entropy_batchnorm, entropy_knn, entropy_pullaway: models/entropy.py's entropy_estimate on one
  batch (the run's batch size) of the same samples.

Samples are drawn as the app draws them (generator.sample: batch-norm running statistics), from a
fixed seed, so the curves move with the model and not with fresh latents.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from explorer.seeds import ENTROPY_OFFSET
from models import BATCH_ESTIMATORS, entropy_estimate

ENTROPY_SAMPLES = 10_000     # generator samples per grid estimate (its cost: docs/speed.md)
FINEST_CELLS = 1024          # cells per side of the finest grid tried; each next one is ~1/sqrt(2) as fine
MIN_PER_CELL = 8.0           # mean samples per occupied cell the chosen grid must keep
# each estimator's history key: those that read one batch ("none" reports nothing; vera and mi need
# the training state, and report their value as the run's "entropy")
ESTIMATOR_KEYS = {name: f"entropy_{name}" for name in BATCH_ESTIMATORS if name != "none"}
# the estimators that read the samples alone: batchnorm reads a generator's BN gammas
SAMPLE_ESTIMATORS = tuple(name for name in ESTIMATOR_KEYS if name != "batchnorm")


def grid_entropy(samples: np.ndarray, finest: int = FINEST_CELLS, min_per_cell: float = MIN_PER_CELL) -> dict:
    """H of 2-D samples, in nats, by the histogram plug-in with the Miller-Madow correction.

    The grid spans the samples' own bounding box (so no sample falls outside it, and a collapsed
    generator is measured on a grid as fine as its spread), cut into r x r equal cells. Too fine
    a grid leaves most cells with 0 or 1 samples and the plug-in underestimates; too coarse a one
    blurs the density and overestimates. r is the finest of finest, finest/sqrt(2), ... for which the
    occupied cells hold at least `min_per_cell` samples on average (tested against a Gaussian, a
    uniform square and an 8-mode ring with known entropy).

    Returns entropy, cells (r), occupied (M), samples (N finite samples used). NaN entropy when
    fewer than 2 finite samples remain.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    x = x[np.isfinite(x).all(axis=1)]
    n = len(x)
    if n < 2:
        return {"entropy": float("nan"), "cells": 0, "occupied": 0, "samples": n}
    low, high = x.min(axis=0), x.max(axis=0)
    width = np.maximum(high - low, 1e-12) * (1 + 1e-9)   # the largest sample falls in the last cell
    unit = (x - low) / width                             # in [0, 1)
    cells = finest
    while True:
        index = np.minimum((unit * cells).astype(np.int64), cells - 1)
        counts = np.unique(index[:, 0] * cells + index[:, 1], return_counts=True)[1]
        if n / len(counts) >= min_per_cell or cells <= 2:
            break
        cells = max(2, round(cells / math.sqrt(2.0)))
    p = counts / n
    cell_area = float(width[0] * width[1]) / cells ** 2
    # H = -sum p_i log(p_i / Delta) + (M - 1) / (2N)
    entropy = float(-(p * np.log(p / cell_area)).sum() + (len(counts) - 1) / (2.0 * n))
    return {"entropy": entropy, "cells": cells, "occupied": int(len(counts)), "samples": n}


def estimator_values(generator, energy, batch: torch.Tensor, names=tuple(ESTIMATOR_KEYS)) -> dict:
    """What each entropy estimator reports for `batch` (G(z) samples), keyed entropy_<name>.
    batchnorm reads the generator's BN gammas only; pullaway is -PT, not in nats."""
    values = {}
    with torch.no_grad():
        for name in names:
            values[ESTIMATOR_KEYS[name]] = float(entropy_estimate(name, generator, batch, energy))
    return values


def entropy_values(samples: torch.Tensor, energy, generator, batch_size: int) -> dict:
    """entropy_grid of all `samples` (N, 2) and each estimator's value on the first `batch_size`
    of them; without a generator (the Langevin baseline) kNN and pull-away only. Non-finite
    values are left out."""
    names = tuple(ESTIMATOR_KEYS) if generator is not None else SAMPLE_ESTIMATORS
    record = {"entropy_grid": grid_entropy(samples.detach().cpu().numpy())["entropy"]}
    record.update(estimator_values(generator, energy, samples[:batch_size].detach(), names))
    return {k: v for k, v in record.items() if math.isfinite(v)}


def entropy_record(energy, generator, options: dict, seed: int, chains: torch.Tensor | None = None,
                   samples: int = ENTROPY_SAMPLES) -> dict:
    """The history entries a 2-D run records at each progress evaluation: entropy_grid and the
    estimators' values on a batch of options["batch_size"] of `samples` generator samples (fixed
    latents from `seed`). For the Langevin baseline, pass its persistent `chains`: there is no
    generator, so their grid entropy and the kNN and pull-away values. {} for data that is not 2-D."""
    if energy.config.data_dim != 2:
        return {}
    if chains is not None:
        return entropy_values(chains[:samples], energy, None, int(options["batch_size"]))
    device = next(generator.parameters()).device
    x = generator.sample(samples, torch.Generator(device=device).manual_seed(seed + ENTROPY_OFFSET))
    return entropy_values(x, energy, generator, int(options["batch_size"]))
