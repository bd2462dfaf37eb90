"""Real 2-D data that ships inside scikit-learn (nothing is downloaded): `--points bundled:NAME`.

Each set is two columns of one of scikit-learn's bundled tables, unchanged (the points dataset
standardises them). `bundled:NAME:train` and `bundled:NAME:heldout` are a fixed 80 / 20 split
(the rows shuffled with seed 0), so a pair trained on the first is scored on the second:

    python -m explorer.train --dataset points --points bundled:iris:train --out runs/iris
    python -m explorer.evaluate runs/iris --points bundled:iris:heldout
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.errors import UserInputError

PREFIX = "bundled:"
SPLITS = ("train", "heldout")
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True)
class BundledSet:
    loader: str                  # the sklearn.datasets function
    columns: tuple[int, int]
    about: str


BUNDLED: dict[str, BundledSet] = {
    "iris": BundledSet("load_iris", (2, 3), "Fisher's iris: petal length and petal width (cm), 150 flowers"),
    "wine": BundledSet("load_wine", (0, 9), "Italian wines: alcohol and colour intensity, 178 wines"),
    "breast-cancer": BundledSet("load_breast_cancer", (0, 1),
                                "Wisconsin breast cancer: mean radius and mean texture, 569 tumours"),
    "diabetes": BundledSet("load_diabetes", (2, 3),
                           "diabetes: body-mass index and blood pressure (as scikit-learn scales them), 442 patients"),
}


def is_bundled(source) -> bool:
    return isinstance(source, str) and source.startswith(PREFIX)


def bundled_points(source: str) -> np.ndarray:
    """'bundled:NAME' (every row) or 'bundled:NAME:train' / ':heldout' -> (N, 2) float32."""
    name, _, split = source[len(PREFIX):].partition(":")
    if name not in BUNDLED:
        raise UserInputError(f"unknown bundled data {name!r}; choose one of {', '.join(BUNDLED)}")
    if split and split not in SPLITS:
        raise UserInputError(f"{source}: the split must be {' or '.join(SPLITS)}, got {split!r}")
    import sklearn.datasets  # imported where used: it slows every start-up
    spec = BUNDLED[name]
    rows = getattr(sklearn.datasets, spec.loader)().data[:, spec.columns].astype(np.float64)
    if split:
        order = np.random.default_rng(SPLIT_SEED).permutation(len(rows))
        cut = int(round((1.0 - HELDOUT_FRACTION) * len(rows)))
        rows = rows[order[:cut]] if split == "train" else rows[order[cut:]]
    return rows.astype(np.float32)
