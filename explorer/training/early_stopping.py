"""Model selection for small sets of points a user brings: keep the pair with the best validation NLL.

The energy update L_E = mean E(x_data) - mean E(G(z)) keeps deepening wells at the training points
for as long as the generator differs from them, so on a few hundred points the energy model
overfits as training goes on. A tenth of the training points is set aside, its NLL
    NLL_val = mean E(x_val) + log Z        (log Z by quadrature on a coarse grid)
is measured every VALIDATE_EVERY steps, and the best pair is restored at the end. The points a
user holds out for `explorer.evaluate --points` are never seen here.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from explorer.data.datasets import Dataset
from explorer.measures import metrics
from explorer.measures.evaluation import energy_fn

VALIDATION_FRACTION = 0.1
MIN_POINTS = 100        # below this, holding points out costs more than it tells
VALIDATE_EVERY = 100    # training steps between validation checks
RESOLUTION = 120        # quadrature cells per side (a check's cost: docs/speed.md)


def split_validation(dataset: Dataset, seed: int) -> tuple[Dataset, np.ndarray | None]:
    """(training dataset, validation points), or (dataset, None) when there are too few points."""
    points = dataset.points
    if dataset.dim != 2 or dataset.mixture is not None or points is None or len(points) < MIN_POINTS:
        return dataset, None
    order = np.random.default_rng(seed).permutation(len(points))
    cut = int(round(VALIDATION_FRACTION * len(points)))
    return replace(dataset, points=points[order[cut:]]), points[order[:cut]]


class BestOnValidation:
    """Tracks validation NLL and keeps a copy of the best pair."""

    def __init__(self, validation: np.ndarray, bounds):
        self.validation, self.bounds = validation, bounds
        self.best_nll, self.best_step, self._best = float("inf"), None, None

    def check(self, step: int, energy, generator) -> float:
        energies = energy_fn(energy)
        log_z = metrics.grid_log_partition(energies, self.bounds, resolution=RESOLUTION)["log_z_total"]
        nll = metrics.nll(energies(self.validation), log_z)
        if np.isfinite(nll) and nll < self.best_nll:
            self.best_nll, self.best_step = nll, step
            # with the step adapted to that energy (--step-acceptance), which its samples use
            self._best = (copy.deepcopy(energy.state_dict()), copy.deepcopy(generator.state_dict()),
                          energy.config.langevin_step)
        return nll

    def restore(self, energy, generator) -> int | None:
        """Load the best pair seen into the models; returns its step (None if none was kept)."""
        if self._best is not None:
            energy.load_state_dict(self._best[0])
            generator.load_state_dict(self._best[1])
            energy.config.langevin_step = self._best[2]
        return self.best_step
