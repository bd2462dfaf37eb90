"""Points a user draws on the page's canvas: checked, saved as a points file, and a few starters.

The canvas (explorer/ui/tabs/studio.py, Draw tab) shows the box [-BOX, BOX]^2 and sends its points as JSON: a list
of [x, y] pairs. Everything that arrives is checked here before it becomes a dataset, with a
message that says what to fix; the points are then saved as a CSV that the `points` dataset
reads like any uploaded file (explorer/data/points.py), so they are standardised the same way.
"""
from __future__ import annotations

import json
import math

import numpy as np

from explorer.errors import UserInputError

BOX = 3.0                 # the canvas shows [-BOX, BOX]^2
MIN_DRAWN = 20            # fewer points than this say little about a shape
MAX_DRAWN = 5000          # the canvas stops adding at this many, and so does the check here
MAX_JSON_CHARS = 400_000  # 5,000 pairs at a few decimals fit in ~100 KB
STARTERS = ("smiley", "two blobs", "ring", "spiral")


def parse_drawing(text) -> np.ndarray:
    """The canvas's JSON -> (N, 2) float32 points, or UserInputError saying what is wrong."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise UserInputError(f"nothing drawn yet: click or drag on the canvas (at least {MIN_DRAWN} points)")
    if not isinstance(text, str):
        raise UserInputError("the drawing must arrive as JSON text")
    if len(text) > MAX_JSON_CHARS:
        raise UserInputError(f"the drawing is {len(text):,} characters of JSON; "
                             f"at most {MAX_JSON_CHARS:,} are accepted")
    try:
        data = json.loads(text)   # note: Python's json accepts NaN and Infinity; they are refused below
    except ValueError:
        raise UserInputError("the drawing is not valid JSON; expected a list of [x, y] pairs") from None
    if isinstance(data, dict):
        data = data.get("points")
    if not isinstance(data, list):
        raise UserInputError("the drawing must be a list of [x, y] pairs")
    if len(data) < MIN_DRAWN:
        raise UserInputError(f"{len(data)} points drawn; at least {MIN_DRAWN} are needed: click or drag to add more")
    if len(data) > MAX_DRAWN:
        raise UserInputError(f"{len(data):,} points drawn; at most {MAX_DRAWN:,} are accepted: press Undo or Clear")
    points = np.empty((len(data), 2), dtype=np.float64)
    for i, pair in enumerate(data):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise UserInputError(f"point {i + 1} is {str(pair)[:40]}; every point must be a pair [x, y]")
        for j, value in enumerate(pair):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UserInputError(f"point {i + 1} has {str(value)[:40]!s} where a number belongs")
            if not math.isfinite(value):
                raise UserInputError(f"point {i + 1} is not a finite number ({value}); every value must be finite")
            points[i, j] = value
    outside = np.abs(points) > BOX + 1e-6
    if outside.any():
        row = int(np.argmax(outside.any(axis=1)))
        x, y = points[row]
        raise UserInputError(f"point {row + 1} ({x:g}, {y:g}) lies outside the canvas box "
                             f"[-{BOX:g}, {BOX:g}] x [-{BOX:g}, {BOX:g}]")
    spread = points.std(axis=0)
    for axis, name in ((0, "x"), (1, "y")):
        if spread[axis] < 1e-3:
            raise UserInputError(f"every point has the same {name}; "
                                 "spread them out so the shape has a width and a height")
    return points.astype(np.float32)


def save_points(points: np.ndarray, path: str) -> str:
    """Write the points as a CSV (header x,y) that the points dataset reads; returns the path."""
    np.savetxt(path, np.asarray(points, dtype=np.float64), delimiter=",", header="x,y", comments="", fmt="%.6g")
    return path


def to_json(points: np.ndarray) -> str:
    """Points as the canvas reads them: a JSON list of [x, y], 4 decimals."""
    return json.dumps([[round(float(x), 4), round(float(y), 4)] for x, y in points])


def starter(name: str, seed: int = 0) -> np.ndarray:
    """A starter drawing inside the box, deterministic from `seed`: something to train on at once,
    or to draw over."""
    rng = np.random.default_rng(seed)
    if name == "smiley":
        angle = rng.uniform(0, 2 * np.pi, 220)
        face = 2.4 * np.column_stack([np.cos(angle), np.sin(angle)])
        mouth_angle = rng.uniform(np.pi * 1.15, np.pi * 1.85, 90)
        mouth = 1.4 * np.column_stack([np.cos(mouth_angle), np.sin(mouth_angle)]) + [0.0, 0.1]
        eyes = np.concatenate([rng.normal([-0.85, 0.8], 0.13, (45, 2)), rng.normal([0.85, 0.8], 0.13, (45, 2))])
        points = np.concatenate([face, mouth, eyes]) + rng.normal(0, 0.05, (400, 2))
    elif name == "two blobs":
        points = np.concatenate([rng.normal([-1.4, -0.6], 0.35, (150, 2)), rng.normal([1.3, 0.9], 0.5, (150, 2))])
    elif name == "ring":
        angle = rng.uniform(0, 2 * np.pi, 300)
        points = 2.0 * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.normal(0, 0.12, (300, 2))
    elif name == "spiral":
        t = np.sqrt(rng.uniform(0.03, 1.0, 350)) * 3.2 * np.pi
        points = 0.27 * np.column_stack([t * np.cos(t), t * np.sin(t)]) + rng.normal(0, 0.08, (350, 2))
    else:
        raise UserInputError(f"unknown starter {name!r}; choose one of: {', '.join(STARTERS)}")
    return np.clip(points, -BOX, BOX).astype(np.float32)
