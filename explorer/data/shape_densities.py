"""The true log-densities of the 2-D shapes (shapes.py), so that a pair trained on a shape is scored
as one trained on a mixture: its held-out NLL read as a gap above the truth's, and KL(p_data || p_E)
on the quadrature grid.

Each shape is a curve or a set of blobs with noise added; its density is the noise's density
averaged over where the noise-free point lies, by quadrature with QUADRATURE nodes (midpoints of
the parameter's range, which the samplers draw uniformly or, for sklearn's moons and circles,
evenly spaced), after the samplers' own scalings (a factor s divides the density by s^2):
- moons: y = 2 x + (-1, -0.2), x = c(t) + N(0, 0.1^2 I), t uniform on [0, pi], each half circle half
  the points;
- circles: y = 3 x, x = r (cos t, sin t) + N(0, 0.08^2 I), r = 1 or 0.5 (half the points each),
  t uniform on [0, 2 pi);
- swissroll: y = (x, z) / 5, (x, z) = t (cos t, sin t) + N(0, I), t uniform on [1.5 pi, 4.5 pi];
- spirals: y = +-(c(u) + a) / 3 + N(0, 0.1^2 I) (the second arm the point reflection of the first),
  c(u) = tau (-cos tau, sin tau), tau = 3 pi sqrt(u), u uniform; a uniform on [0, 0.5]^2, so each
  coordinate's jitter, a box of width 1/6 after the division, convolved with the Gaussian is a
  difference of two normal CDFs;
- checkerboard: uniform, 1 / 32 on the 8 squares of side 2 where floor(y1 / 2) + floor(y2 / 2) is
  even (0 elsewhere: log-density -inf);
- pinwheel: y = 2 z, z = R(-theta) f, f ~ N((1, 0), diag(0.3^2, 0.1^2)), theta = 2 pi k / 5 +
  0.25 exp(f_1) (arm k of 5). A rotation keeps the norm, so f lies on the circle |f| = |z|; its angle
  phi solves phi - 0.25 exp(|z| cos phi) - 2 pi k / 5 = angle(z) (mod 2 pi), found on a grid of
  ROOT_GRID angles and refined by Newton; p(z) = sum over arms and roots of p(f) / |det dz/df|,
  det dz/df = 1 + 0.25 exp(f_1) f_2.
tests/test_shape_densities.py checks each against a histogram of its sampler's draws.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import logsumexp, ndtr

QUADRATURE = 512    # nodes along a curve: at most 0.3 of the noise's std apart on every shape
ROOT_GRID = 360     # angles searched for the pinwheel's roots (a degree apart)
CHUNK = 2048        # points at a time: memory CHUNK x QUADRATURE


def _midpoints(low: float, high: float, n: int = QUADRATURE) -> np.ndarray:
    return low + (high - low) * (np.arange(n) + 0.5) / n


def _curve_log_density(y: np.ndarray, curve: np.ndarray, std: float) -> np.ndarray:
    """log of mean_j N(y; curve_j, std^2 I): an isotropic Gaussian around a curve's nodes, averaged."""
    out = np.empty(len(y))
    for start in range(0, len(y), CHUNK):
        block = y[start:start + CHUNK]
        squared = ((block[:, None, :] - curve[None, :, :]) ** 2).sum(-1)
        out[start:start + CHUNK] = logsumexp(-squared / (2 * std**2), axis=1) - np.log(len(curve))
    return out - np.log(2 * np.pi * std**2)


def _halves(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.logaddexp(first, second) - np.log(2.0)


def moons(y: np.ndarray) -> np.ndarray:
    x = (y - np.array([-1.0, -0.2])) / 2.0
    t = _midpoints(0.0, np.pi)
    outer = np.stack([np.cos(t), np.sin(t)], axis=1)
    inner = np.stack([1 - np.cos(t), 1 - np.sin(t) - 0.5], axis=1)
    return _halves(_curve_log_density(x, outer, 0.1), _curve_log_density(x, inner, 0.1)) - 2 * np.log(2.0)


def circles(y: np.ndarray) -> np.ndarray:
    x = y / 3.0
    t = _midpoints(0.0, 2 * np.pi)
    ring = np.stack([np.cos(t), np.sin(t)], axis=1)
    return _halves(_curve_log_density(x, ring, 0.08), _curve_log_density(x, 0.5 * ring, 0.08)) - 2 * np.log(3.0)


def swissroll(y: np.ndarray) -> np.ndarray:
    t = _midpoints(1.5 * np.pi, 4.5 * np.pi)
    return _curve_log_density(y * 5.0, np.stack([t * np.cos(t), t * np.sin(t)], axis=1), 1.0) + 2 * np.log(5.0)


def _box_blur(w: np.ndarray, width: float, std: float) -> np.ndarray:
    """Density at w of U(0, width) + N(0, std^2): (Phi(w / std) - Phi((w - width) / std)) / width."""
    return (ndtr(w / std) - ndtr((w - width) / std)) / width


def spirals(y: np.ndarray) -> np.ndarray:
    tau = 3 * np.pi * np.sqrt(_midpoints(0.0, 1.0))
    centre = np.stack([-np.cos(tau) * tau, np.sin(tau) * tau], axis=1) / 3.0
    width, std = 0.5 / 3.0, 0.1
    density = np.zeros(len(y))
    for sign in (1.0, -1.0):   # the second arm: y -> -y maps it onto the first
        for start in range(0, len(y), CHUNK):
            w = sign * y[start:start + CHUNK, None, :] - centre[None, :, :]
            density[start:start + CHUNK] += 0.5 * _box_blur(w, width, std).prod(-1).mean(axis=1)
    with np.errstate(divide="ignore"):   # far from both arms the density underflows to 0: log -inf
        return np.log(density)


def checkerboard(y: np.ndarray) -> np.ndarray:
    inside = (np.abs(y) <= 4.0).all(axis=1) & ((np.floor(y[:, 0] / 2) + np.floor(y[:, 1] / 2)) % 2 == 0)
    return np.where(inside, -np.log(32.0), -np.inf)


PINWHEEL_ARMS, RADIAL_STD, TANGENTIAL_STD, RATE = 5, 0.3, 0.1, 0.25


def _pinwheel_mismatch(angle, radius, psi, arm):
    """Wrapped to (-pi, pi]: zero where arm `arm` turns f = radius (cos angle, sin angle) onto z = (radius, psi)."""
    turned = angle - RATE * np.exp(radius * np.cos(angle)) - 2 * np.pi * arm / PINWHEEL_ARMS - psi
    return np.pi - np.mod(np.pi - turned, 2 * np.pi)


def pinwheel(y: np.ndarray) -> np.ndarray:
    z = y / 2.0
    rho, psi = np.hypot(z[:, 0], z[:, 1]), np.arctan2(z[:, 1], z[:, 0])
    log_p = np.full(len(y), -np.inf)
    for start in range(0, len(y), CHUNK):   # memory CHUNK x ROOT_GRID a block
        block = slice(start, start + CHUNK)
        rows, log_terms = _pinwheel_roots(rho[block], psi[block])
        np.logaddexp.at(log_p[block], rows, log_terms)
    return log_p - np.log(PINWHEEL_ARMS) - 2 * np.log(2.0)


def _pinwheel_roots(rho: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points z = rho (cos psi, sin psi): each root f of some arm's map onto z (the point's row) and
    log p(f) - log |det dz/df| there."""
    step = 2 * np.pi / ROOT_GRID
    grid = -np.pi + step * np.arange(ROOT_GRID)
    # in units of the arms' spacing 2 pi / 5, arm k's roots are where this crosses k (mod 5): one pass
    # finds every arm's (its slope, under 20 a radian even at the box's corners, moves it less than a
    # third of a unit a grid step: at most one crossing a step)
    turns = (grid[None, :] - RATE * np.exp(rho[:, None] * np.cos(grid[None, :])) - psi[:, None]) \
        / (2 * np.pi / PINWHEEL_ARMS)
    following = np.roll(turns, -1, axis=1)
    following[:, -1] += PINWHEEL_ARMS   # the circle closes: the angle after the last is -pi + 2 pi
    low, high = np.floor(turns), np.floor(following)
    rows, cols = np.nonzero(low != high)
    here, there = turns[rows, cols], following[rows, cols]
    crossed = np.where(there > here, high[rows, cols], low[rows, cols])
    arm = np.mod(crossed, PINWHEEL_ARMS)
    angle = grid[cols] + step * (crossed - here) / (there - here)
    radius = rho[rows]
    for _ in range(3):   # Newton on the mismatch, from the linear interpolation
        slope = 1 + RATE * np.exp(radius * np.cos(angle)) * radius * np.sin(angle)
        angle = angle - _pinwheel_mismatch(angle, radius, psi[rows], arm) / np.where(np.abs(slope) > 1e-9, slope, 1e-9)
    f1, f2 = radius * np.cos(angle), radius * np.sin(angle)
    log_pf = (-0.5 * ((f1 - 1.0) / RADIAL_STD) ** 2 - 0.5 * (f2 / TANGENTIAL_STD) ** 2
              - np.log(2 * np.pi * RADIAL_STD * TANGENTIAL_STD))
    return rows, log_pf - np.log(np.abs(1 + RATE * np.exp(f1) * f2))


SHAPE_LOG_DENSITIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "swissroll": swissroll, "moons": moons, "circles": circles,
    "checkerboard": checkerboard, "pinwheel": pinwheel, "spirals": spirals,
}


def shape_log_density(name: str, y: np.ndarray) -> np.ndarray:
    """log p(y) of the shape `name` at the points y (N, 2), float64."""
    return SHAPE_LOG_DENSITIES[name](np.asarray(y, dtype=np.float64).reshape(-1, 2))


_GRIDS: dict[tuple, np.ndarray] = {}   # (name, the grid's bytes) -> log p on it; evaluations reuse one grid
GRIDS_KEPT = 8


def shape_log_density_on_grid(name: str, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """shape_log_density on the grid xs x ys (np.meshgrid's layout, flattened), computed once a grid."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    key = (name, xs.tobytes(), ys.tobytes())
    if key not in _GRIDS:
        gx, gy = np.meshgrid(xs, ys)
        if len(_GRIDS) >= GRIDS_KEPT:
            _GRIDS.pop(next(iter(_GRIDS)))
        _GRIDS[key] = shape_log_density(name, np.stack([gx.ravel(), gy.ravel()], axis=1))
    return _GRIDS[key]

