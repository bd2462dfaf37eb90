"""Mixtures of Gaussians in 2-D with a known density: the ring, the grid, and an unbalanced pair.

Everything random is drawn from the `numpy.random.Generator` the caller passes in, so a seed
reproduces a run. Bad parameters raise `UserInputError` with a one-line message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from explorer.errors import UserInputError

MAX_MODES = 100                  # keeps grid densities (grid points x modes) cheap to evaluate
_CHUNK = 65_536                  # points per block when evaluating densities on large grids
# the parameters of each mixture, named as the options (and the page's controls) that set them
MIXTURE_PARAMETERS = {"ring": ("modes", "radius", "std"), "grid": ("modes", "spacing", "std"),
                      "unbalanced": ("std",)}
UNBALANCED_WEIGHTS = (0.9, 0.1)   # EGAN's test: does the energy recover the weights, not only the modes?


# ----------------------------------------------------------------------------- parameter checks
def _positive_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise UserInputError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise UserInputError(f"{name} must be a positive number, got {value}")
    return float(value)


def _whole_number(name: str, value, low: int, high: int) -> int:
    # sliders may hand over 8.0 for 8: accept any whole-valued number, refuse 8.5
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise UserInputError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    if not (math.isfinite(value) and value == int(value) and low <= value <= high):
        raise UserInputError(f"{name} must be a whole number from {low} to {high}, got {value}")
    return int(value)


def is_square_number(n: int) -> bool:
    """The grid lays its modes out n x n: 1, 4, 9, 16, 25, ..."""
    return math.isqrt(n) ** 2 == n


# ----------------------------------------------------------------------------- mixtures
@dataclass(frozen=True, eq=False)
class Mixture:
    """A mixture of isotropic Gaussians N(mu_k, std^2 I) in 2-D, equal weights unless given."""

    centers: np.ndarray          # (K, 2) float64 mode centres mu_k
    std: float                   # the standard deviation of every component, per coordinate
    given_weights: tuple[float, ...] | None = None   # w_k, summing to 1; None: 1/K each

    def __post_init__(self):
        centers = np.array(self.centers, dtype=np.float64)   # a private, read-only copy
        centers.setflags(write=False)
        object.__setattr__(self, "centers", centers)

    @property
    def weights(self) -> np.ndarray:
        """The mixture weights w_k (uniform, 1/K, unless given)."""
        if self.given_weights is not None:
            return np.asarray(self.given_weights, dtype=np.float64)
        return np.full(len(self.centers), 1.0 / len(self.centers))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws, (n, 2) float32: pick a mode (uniformly, or by its weight), add N(0, std^2 I) noise."""
        if self.given_weights is None:
            modes = rng.integers(len(self.centers), size=n)
        else:
            modes = rng.choice(len(self.centers), size=n, p=self.weights)
        return (self.centers[modes] + self.std * rng.standard_normal((n, 2))).astype(np.float32)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Exact log p(x), (M,) float64, for points x of shape (M, 2):

        log p(x) = logsumexp_k [log w_k - |x - mu_k|^2 / (2 std^2)] - log(2 pi std^2)
        """
        x = np.asarray(x, dtype=np.float64).reshape(-1, 2)
        log_w = np.log(self.weights)
        log_norm = math.log(2.0 * math.pi * self.std**2)
        out = np.empty(len(x))
        for start in range(0, len(x), _CHUNK):   # bounds memory at _CHUNK x K
            block = x[start:start + _CHUNK]
            sq_dist = ((block[:, None, :] - self.centers[None, :, :]) ** 2).sum(-1)
            out[start:start + _CHUNK] = logsumexp(log_w - sq_dist / (2.0 * self.std**2), axis=1)
        return out - log_norm


def ring_mixture(modes: int = 8, radius: float = 2.0, std: float = 0.05) -> Mixture:
    """K modes evenly spaced on a circle, centre k at angle 2 pi k / K."""
    modes = _whole_number("modes", modes, 1, MAX_MODES)
    radius = _positive_number("radius", radius)
    std = _positive_number("std", std)
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return Mixture(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std)


def grid_mixture(modes: int = 25, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """n x n modes on a square lattice centred at the origin (25, spacing 2 -> -4, -2, 0, 2, 4)."""
    modes = _whole_number("modes", modes, 1, MAX_MODES)
    if not is_square_number(modes):
        raise UserInputError(f"grid modes must be a perfect square (1, 4, 9, 16, 25, ...), got {modes}")
    spacing = _positive_number("spacing", spacing)
    std = _positive_number("std", std)
    side = math.isqrt(modes)
    axis = spacing * (np.arange(side) - (side - 1) / 2.0)
    gx, gy = np.meshgrid(axis, axis, indexing="xy")
    return Mixture(np.stack([gx.ravel(), gy.ravel()], axis=1), std)


def unbalanced_mixture(std: float = 0.2) -> Mixture:
    """Two modes at (-1, 0) and (1, 0) with weights 0.9 and 0.1 (UNBALANCED_WEIGHTS)."""
    std = _positive_number("std", std)
    return Mixture(np.array([[-1.0, 0.0], [1.0, 0.0]]), std, UNBALANCED_WEIGHTS)


def mixture_bounds(mixture: Mixture) -> tuple[float, float, float, float]:
    """A square box around the centres with a margin of max(1, 6 std): holds all but ~1e-8 of the mass."""
    margin = max(1.0, 6.0 * mixture.std)
    low, high = mixture.centers.min(axis=0) - margin, mixture.centers.max(axis=0) + margin
    middle, half = (low + high) / 2.0, (high - low).max() / 2.0   # squared off: equal sides
    return (float(middle[0] - half), float(middle[0] + half), float(middle[1] - half), float(middle[1] + half))


MIXTURES = {"ring": ring_mixture, "grid": grid_mixture, "unbalanced": unbalanced_mixture}
