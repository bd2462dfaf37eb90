"""The data EnergyLab trains on: 2-D mixtures with a known density, 2-D shapes, points a user
brings (CSV or NPY), and scikit-learn's 8 x 8 handwritten digits.

Everything random is drawn from the `numpy.random.Generator` the caller passes in, so a seed
reproduces a run. Bad user input raises `UserInputError` with a one-line message.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.special import logsumexp

from explorer.errors import UserInputError

DATASET_NAMES = (
    "ring", "grid", "swissroll", "moons", "circles", "checkerboard", "pinwheel", "spirals",
    "points", "digits",
)

MAX_MODES = 100                  # keeps grid densities (grid points x modes) cheap to evaluate
MIN_POINTS = 10                  # fewer user points than this cannot be standardised meaningfully
MAX_POINTS = 1_000_000           # larger uploads are refused rather than slowly parsed
MAX_FILE_BYTES = 100 * 2**20     # a million rows of two numbers fit easily in 100 MiB of text
SHAPE_BOUNDS = (-4.5, 4.5, -4.5, 4.5)   # the shapes below are scaled to lie within [-4, 4]
_CHUNK = 65_536                  # points per block when evaluating densities on large grids
_NPY_MAGIC = b"\x93NUMPY"


# ----------------------------------------------------------------------------- validation

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


# ----------------------------------------------------------------------------- mixtures

@dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians N(mu_k, std^2 I) in 2-D."""

    centers: np.ndarray          # (K, 2) float64 mode centres mu_k
    std: float                   # the standard deviation of every component, per coordinate

    def __post_init__(self):
        centers = np.array(self.centers, dtype=np.float64)   # a private, read-only copy
        centers.setflags(write=False)
        object.__setattr__(self, "centers", centers)

    @property
    def weights(self) -> np.ndarray:
        """Uniform mixture weights w_k = 1/K."""
        return np.full(len(self.centers), 1.0 / len(self.centers))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws, (n, 2) float32: pick a mode uniformly, add N(0, std^2 I) noise."""
        modes = rng.integers(len(self.centers), size=n)
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
    side = math.isqrt(modes)
    if side * side != modes:
        raise UserInputError(f"grid modes must be a perfect square (1, 4, 9, 16, 25, ...), got {modes}")
    spacing = _positive_number("spacing", spacing)
    std = _positive_number("std", std)
    axis = spacing * (np.arange(side) - (side - 1) / 2.0)
    gx, gy = np.meshgrid(axis, axis, indexing="xy")
    return Mixture(np.stack([gx.ravel(), gy.ravel()], axis=1), std)


def mixture_bounds(mixture: Mixture) -> tuple[float, float, float, float]:
    """A square box around the centres with a margin of max(1, 6 std): holds all but ~1e-8 of the mass."""
    margin = max(1.0, 6.0 * mixture.std)
    low, high = mixture.centers.min(axis=0) - margin, mixture.centers.max(axis=0) + margin
    middle, half = (low + high) / 2.0, (high - low).max() / 2.0   # squared off: equal sides
    return (float(middle[0] - half), float(middle[0] + half), float(middle[1] - half), float(middle[1] + half))


# ----------------------------------------------------------------------------- shapes
# The usual "toy_data" shapes of FFJORD (Grathwohl et al. 2019), scaled to lie within [-4, 4].

def _sklearn_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def swiss_roll(n: int, rng: np.random.Generator) -> np.ndarray:
    """The swiss roll's (x, z) section, noise 1, divided by 5."""
    import sklearn.datasets  # imported where used: it slows every start-up (docs/speed.md)
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


# ----------------------------------------------------------------------------- user points

def load_points(path) -> np.ndarray:
    """Read N x 2 points, (N, 2) float32, from a CSV/text file (comma or whitespace separated,
    optional header row) or a .npy file (never unpickled). Refuses anything else with a one-line
    UserInputError that says what was wrong."""
    path = Path(path)
    name = path.name
    if not path.exists():
        raise UserInputError(f"points file not found: {path}")
    if not path.is_file():
        raise UserInputError(f"{name} is not a file; expected a .csv or .npy file of N x 2 numbers")
    size = path.stat().st_size
    if size == 0:
        raise UserInputError(f"{name} is empty; expected N x 2 numbers")
    if size > MAX_FILE_BYTES:
        raise UserInputError(f"{name} is {size / 2**20:.0f} MiB; at most {MAX_FILE_BYTES // 2**20} MiB is accepted")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserInputError(f"{name} could not be read: {error.strerror or error}") from None

    if raw.startswith(_NPY_MAGIC):
        points = _parse_npy(path, name)
    elif path.suffix.lower() == ".npy":
        raise UserInputError(f"{name} is not a valid .npy file (no NumPy header); save it with numpy.save")
    else:
        points = _parse_text(raw, name)

    if len(points) < MIN_POINTS:
        raise UserInputError(f"{name} has {len(points)} points; at least {MIN_POINTS} are needed")
    if len(points) > MAX_POINTS:
        raise UserInputError(f"{name} has {len(points):,} points; at most {MAX_POINTS:,} are accepted")
    finite = np.isfinite(points).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite)) + 1
        raise UserInputError(
            f"{name}: point {row} is NaN, infinite or beyond float32 range; every value must be a finite number")
    return points


def _parse_npy(path: Path, name: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)   # never unpickle: a pickle can run code
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise UserInputError(
                f"{name} holds Python objects, which are never loaded; save a plain numeric array") from None
        raise UserInputError(f"{name} is not a readable .npy file: {error}") from None
    except (OSError, EOFError) as error:
        raise UserInputError(f"{name} is not a readable .npy file: {error}") from None
    if array.dtype.kind not in "iuf":               # ints or floats; not bool, complex, text, records
        raise UserInputError(f"{name} holds {array.dtype} values; expected real numbers (int or float)")
    if array.ndim != 2 or array.shape[1] != 2:
        raise UserInputError(f"{name} has shape {array.shape}; expected (N, 2)")
    if len(array) > MAX_POINTS:                     # before the copy below
        raise UserInputError(f"{name} has {len(array):,} points; at most {MAX_POINTS:,} are accepted")
    with np.errstate(over="ignore"):                # too-large values become inf, refused by the caller
        return array.astype(np.float32)


def _parse_text(raw: bytes, name: str) -> np.ndarray:
    if b"\x00" in raw:
        raise UserInputError(f"{name} looks binary; expected a text CSV or a .npy file of N x 2 numbers")
    try:
        text = raw.decode("utf-8-sig")              # -sig drops the BOM some spreadsheets write
    except UnicodeDecodeError:
        raise UserInputError(f"{name} is not UTF-8 text; expected a text CSV or a .npy file of N x 2 numbers") from None

    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line and not line.startswith("#")]   # comments
    if not lines:
        raise UserInputError(f"{name} holds no numbers; expected N x 2 numbers")
    if len(lines) > MAX_POINTS + 1:                 # + 1 for a header; checked before the slow parse
        raise UserInputError(f"{name} has {len(lines):,} rows; at most {MAX_POINTS:,} points are accepted")

    first_cells = _split_cells(lines[0][1])
    if not any(_is_number(cell) for cell in first_cells):
        lines = lines[1:]                           # a header row, e.g. "x,y"
        if not lines:
            raise UserInputError(f"{name} has a header but no rows of numbers")

    points = np.empty((len(lines), 2), dtype=np.float64)
    for row, (number, line) in enumerate(lines):
        cells = _split_cells(line)
        if len(cells) != 2:
            raise UserInputError(f"{name}, line {number}: found {len(cells)} columns, expected exactly 2 (x, y)")
        for column, cell in enumerate(cells):
            try:
                points[row, column] = float(cell)
            except ValueError:
                raise UserInputError(
                    f"{name}, line {number}, column {column + 1}: {cell[:40]!r} is not a number") from None
    with np.errstate(over="ignore"):
        return points.astype(np.float32)


_WHITESPACE = re.compile(r"\s+")


def _split_cells(line: str) -> list[str]:
    if "," in line:
        return [cell.strip() for cell in line.split(",")]
    return _WHITESPACE.split(line)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def standardise(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points - mean) / std per column, so every column has zero mean and unit std.

    Returns (standardised float32, mean float64 (2,), std float64 (2,)); refuses a constant column.
    """
    points = np.asarray(points, dtype=np.float64)
    mean, std = points.mean(axis=0), points.std(axis=0)
    flat = np.flatnonzero(std <= 1e-12 * np.maximum(1.0, np.abs(mean)))
    if flat.size:
        raise UserInputError(f"column {flat[0] + 1} has the same value in every row; cannot standardise it")
    return ((points - mean) / std).astype(np.float32), mean, std


def points_bounds(points: np.ndarray) -> tuple[float, float, float, float]:
    """A square box around the points with a 10 % margin (at least 0.5) on each side."""
    low, high = points.min(axis=0).astype(np.float64), points.max(axis=0).astype(np.float64)
    middle = (low + high) / 2.0
    half = (high - low).max() / 2.0
    half += max(0.5, 0.1 * 2.0 * half)
    return (float(middle[0] - half), float(middle[0] + half), float(middle[1] - half), float(middle[1] + half))


# ----------------------------------------------------------------------------- digits

@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    import sklearn.datasets
    bunch = sklearn.datasets.load_digits()
    images = (bunch.data / 8.0 - 1.0).astype(np.float32)   # pixels 0..16 -> [-1, 1]
    images.setflags(write=False)
    labels = bunch.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def load_digits_scaled() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten 8 x 8 digits: images (1797, 64) float32 in [-1, 1]
    (pixel / 8 - 1) and labels (1797,) int64. Ships with scikit-learn; nothing is downloaded."""
    images, labels = _digits()
    return images.copy(), labels.copy()


# ----------------------------------------------------------------------------- the dataset

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
    applicable = {"ring": {"modes", "radius", "std"}, "grid": {"modes", "spacing", "std"},
                  "points": {"points_path"}}.get(name, set())
    extra = [key for key, value in given.items() if value is not None and key not in applicable]
    if extra:
        raise UserInputError(f"{', '.join(extra)} does not apply to the {name!r} dataset")

    if name == "ring":
        mixture = ring_mixture(8 if modes is None else modes, 2.0 if radius is None else radius,
                               0.05 if std is None else std)
        return Dataset(name, 2, mixture_bounds(mixture), mixture=mixture)
    if name == "grid":
        mixture = grid_mixture(25 if modes is None else modes, 2.0 if spacing is None else spacing,
                               0.05 if std is None else std)
        return Dataset(name, 2, mixture_bounds(mixture), mixture=mixture)
    if name in SHAPE_SAMPLERS:
        return Dataset(name, 2, SHAPE_BOUNDS, shape_sampler=SHAPE_SAMPLERS[name])
    if name == "points":
        if points_path is None:
            raise UserInputError("the 'points' dataset needs a file: pass a .csv or .npy of N x 2 numbers")
        points, offset, scale = standardise(load_points(points_path))
        return Dataset(name, 2, points_bounds(points), points=points, offset=offset, scale=scale)
    images, labels = load_digits_scaled()
    return Dataset(name, 64, None, points=images, labels=labels)
