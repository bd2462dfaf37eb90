"""Points a user brings: read from a CSV or NPY file, checked, standardised, and boxed for plotting.

Bad input raises `UserInputError` with a one-line message that says what was wrong.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from explorer.data.bundled import bundled_points, is_bundled
from explorer.errors import UserInputError

MIN_POINTS = 10                  # fewer user points than this cannot be standardised meaningfully
MAX_POINTS = 1_000_000           # larger uploads are refused rather than slowly parsed
MAX_FILE_BYTES = 100 * 2**20     # a million rows of two numbers fit easily in 100 MiB of text
_NPY_MAGIC = b"\x93NUMPY"


def load_points(path) -> np.ndarray:
    """Read N x 2 points, (N, 2) float32, from a CSV/text file (comma or whitespace separated,
    optional header row) or a .npy file (never unpickled). Refuses anything else with a one-line
    UserInputError that says what was wrong. `bundled:NAME[:train|:heldout[:PERCENT]]` names one of the
    real 2-D sets that ship with scikit-learn instead (explorer/data/bundled.py)."""
    if is_bundled(path):
        return bundled_points(path)
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
