"""The 2-D shapes: the usual "toy_data" of FFJORD (Grathwohl et al. 2019), scaled to lie within
[-4, 4]. Their densities have no closed form but a quadrature (shape_densities.py).

Each is a sampler `(n, rng) -> (n, 2) float32`, drawing only from the `numpy.random.Generator`
passed in (scikit-learn's through a seed taken from it), so a seed reproduces a run.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

SHAPE_BOUNDS = (-4.5, 4.5, -4.5, 4.5)   # the shapes below are scaled to lie within [-4, 4]


def _sklearn_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def swiss_roll(n: int, rng: np.random.Generator) -> np.ndarray:
    """The swiss roll's (x, z) section, noise 1, divided by 5."""
    import sklearn.datasets  # imported where used: it adds ~1 s to every start-up
    points = sklearn.datasets.make_swiss_roll(n_samples=n, noise=1.0, random_state=_sklearn_seed(rng))[0]
    return (points[:, [0, 2]] / 5.0).astype(np.float32)


def two_moons(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two interleaved half circles, noise 0.1, mapped by 2 x + (-1, -0.2)."""
    import sklearn.datasets
    points = sklearn.datasets.make_moons(n_samples=n, noise=0.1, random_state=_sklearn_seed(rng))[0]
    return (2.0 * points + np.array([-1.0, -0.2])).astype(np.float32)


def circles(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two concentric circles of radius 3 and 1.5, noise 0.08 before the x3 scaling."""
    import sklearn.datasets
    points = sklearn.datasets.make_circles(n_samples=n, factor=0.5, noise=0.08, random_state=_sklearn_seed(rng))[0]
    return (3.0 * points).astype(np.float32)


def checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform on the 8 squares of a 4 x 4 board over [-4, 4]^2 where floor(x/2) + floor(y/2) is even."""
    x1 = rng.random(n) * 4.0 - 2.0
    x2 = rng.random(n) - 2.0 * rng.integers(0, 2, size=n) + np.floor(x1) % 2
    return (2.0 * np.stack([x1, x2], axis=1)).astype(np.float32)


def pinwheel(n: int, rng: np.random.Generator) -> np.ndarray:
    """Five arms: Gaussian blobs at radius 1 (std 0.3 radial, 0.1 tangential), each turned by
    0.25 exp(radius) so the arm bends outwards; scaled by 2."""
    arms, radial_std, tangential_std, rate = 5, 0.3, 0.1, 0.25
    features = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std])
    features[:, 0] += 1.0
    arm = rng.integers(arms, size=n)
    angles = 2.0 * np.pi * arm / arms + rate * np.exp(features[:, 0])
    cos, sin = np.cos(angles), np.sin(angles)
    # row vector times the rotation [[cos, -sin], [sin, cos]], as in the reference code
    rotated = np.stack([features[:, 0] * cos + features[:, 1] * sin,
                        -features[:, 0] * sin + features[:, 1] * cos], axis=1)
    return (2.0 * rotated).astype(np.float32)


def spirals(n: int, rng: np.random.Generator) -> np.ndarray:
    """Two interleaved spirals of 1.5 turns (point reflections of each other), divided by 3, noise 0.1."""
    half = n // 2
    turn = np.sqrt(rng.random((n, 1))) * 540.0 * (2.0 * np.pi) / 360.0
    x = -np.cos(turn) * turn + rng.random((n, 1)) * 0.5
    y = np.sin(turn) * turn + rng.random((n, 1)) * 0.5
    points = np.hstack([x, y])
    points[half:] *= -1.0                                   # the second arm
    return (points / 3.0 + 0.1 * rng.standard_normal((n, 2))).astype(np.float32)


SHAPE_SAMPLERS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "swissroll": swiss_roll, "moons": two_moons, "circles": circles,
    "checkerboard": checkerboard, "pinwheel": pinwheel, "spirals": spirals,
}
