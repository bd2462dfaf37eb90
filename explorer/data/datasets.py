"""The data EnergyLab trains on, by name: 2-D mixtures with a known density (explorer/data/mixtures.py),
2-D shapes (shapes.py), points a user brings (points.py), and scikit-learn's 8 x 8 digits (digits.py).

Everything random is drawn from the `numpy.random.Generator` the caller passes in, so a seed
reproduces a run. Bad user input raises `UserInputError` with a one-line message.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from explorer.data.digits import load_digits_scaled
from explorer.data.mixtures import MIXTURE_PARAMETERS, MIXTURES, Mixture, mixture_bounds
from explorer.data.points import load_points, points_bounds, standardise
from explorer.data.shape_densities import SHAPE_LOG_DENSITIES, shape_log_density, shape_log_density_on_grid
from explorer.data.shapes import SHAPE_BOUNDS, SHAPE_SAMPLERS
from explorer.errors import UserInputError

DATASET_NAMES = (
    "ring", "grid", "unbalanced", "swissroll", "moons", "circles", "checkerboard", "pinwheel", "spirals",
    "points", "digits",
)


@dataclass(eq=False)
class Dataset:
    """One dataset as the rest of the app sees it: a name, a dimension, a plotting box and a sampler."""

    name: str
    dim: int                                                   # 2 for points, 64 for digits
    bounds: tuple[float, float, float, float] | None           # (xmin, xmax, ymin, ymax); None for digits
    mixture: Mixture | None = None                             # the known density, for ring and grid
    points: np.ndarray | None = None                           # the finite training set (points, digits)
    labels: np.ndarray | None = None                           # digit classes, digits only
    shape_sampler: Callable[[int, np.random.Generator], np.ndarray] | None = field(default=None, repr=False)
    offset: np.ndarray | None = None                           # points only: x_std = (x - offset) / scale
    scale: np.ndarray | None = None

    @property
    def has_density(self) -> bool:
        """Whether the data's true density is known: a mixture's, or a shape's (shape_densities.py)."""
        return self.mixture is not None or self.name in SHAPE_LOG_DENSITIES

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log p_data at the points x (N, 2), float64 (has_density only)."""
        if self.mixture is not None:
            return self.mixture.log_density(x)
        return shape_log_density(self.name, x)

    def log_density_on_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """log p_data on the grid xs x ys, flattened row by row (y outer), as np.meshgrid(xs, ys) lays
        it out; a shape's is kept for the next call with the same grid (a few seconds to compute)."""
        if self.mixture is not None:
            gx, gy = np.meshgrid(xs, ys)
            return self.mixture.log_density(np.stack([gx.ravel(), gy.ravel()], axis=1))
        return shape_log_density_on_grid(self.name, xs, ys)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n points, (n, dim) float32: fresh draws for mixtures and shapes, draws with
        replacement from `points` for finite sets."""
        if self.mixture is not None:
            return self.mixture.sample(n, rng)
        if self.shape_sampler is not None:
            return self.shape_sampler(n, rng)
        return self.points[rng.integers(len(self.points), size=n)]


def make_dataset(name: str, *, modes=None, radius=None, spacing=None, std=None, points_path=None) -> Dataset:
    """Build a dataset by name (see DATASET_NAMES). Parameters that do not apply to `name` are
    refused rather than silently ignored."""
    if name not in DATASET_NAMES:
        raise UserInputError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
    given = {"modes": modes, "radius": radius, "spacing": spacing, "std": std, "points_path": points_path}
    applicable = {**MIXTURE_PARAMETERS, "points": ("points_path",)}.get(name, ())
    extra = [key for key, value in given.items() if value is not None and key not in applicable]
    if extra:
        raise UserInputError(f"{', '.join(extra)} does not apply to the {name!r} dataset")

    if name in MIXTURES:   # what is not given keeps the mixture's own default
        mixture = MIXTURES[name](**{key: value for key, value in given.items() if value is not None})
        return Dataset(name, 2, mixture_bounds(mixture), mixture=mixture)
    if name in SHAPE_SAMPLERS:
        return Dataset(name, 2, SHAPE_BOUNDS, shape_sampler=SHAPE_SAMPLERS[name])
    if name == "points":
        if points_path is None:
            raise UserInputError("the 'points' dataset needs a file: pass a .csv or .npy of N x 2 numbers")
        return points_dataset(load_points(points_path))
    images, labels = load_digits_scaled()
    return Dataset(name, 64, None, points=images, labels=labels)


def points_dataset(raw: np.ndarray) -> Dataset:
    """A user's N x 2 points as the `points` dataset: standardised, with the box around them."""
    points, offset, scale = standardise(raw)
    return Dataset("points", 2, points_bounds(points), points=points, offset=offset, scale=scale)
