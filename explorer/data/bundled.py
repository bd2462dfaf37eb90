"""Real 2-D data that ships inside scikit-learn (nothing is downloaded): `--points bundled:NAME`.

Each set is two columns of one of scikit-learn's bundled tables, unchanged (the points dataset
standardises them). `bundled:NAME:train` and `bundled:NAME:heldout` are a fixed 80 / 20 split
(the rows shuffled with seed 0), so a pair trained on the first is scored on the second:

    python -m explorer.train --dataset points --points bundled:iris:train --out runs/iris
    python -m explorer.evaluate runs/iris --points bundled:iris:heldout

`bundled:NAME:train:30` and `bundled:NAME:heldout:30` hold out 30 % instead (the same shuffle): the
robustness suite's 70 / 30 split. Without the percentage the split stays 80 / 20, as every study
recorded before the percentage existed read it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.errors import UserInputError

PREFIX = "bundled:"
SPLITS = ("train", "heldout")
HELDOUT_PERCENT = 20   # without a percentage in the name: what the older studies' rows were trained on
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
    """'bundled:NAME' (every row), 'bundled:NAME:train' / ':heldout' (80 / 20), or with the held-out
    percentage, 'bundled:NAME:train:30' / ':heldout:30' -> (N, 2) float32."""
    name, _, split = source[len(PREFIX):].partition(":")
    split, _, percent_text = split.partition(":")
    if name not in BUNDLED:
        raise UserInputError(f"unknown bundled data {name!r}; choose one of {', '.join(BUNDLED)}")
    if split and split not in SPLITS:
        raise UserInputError(f"{source}: the split must be {' or '.join(SPLITS)}, got {split!r}")
    percent = HELDOUT_PERCENT
    if percent_text:
        if not (percent_text.isdigit() and 5 <= int(percent_text) <= 95):
            raise UserInputError(f"{source}: the held-out percentage must be a whole number from 5 to 95, "
                                 f"got {percent_text!r}")
        percent = int(percent_text)
    import sklearn.datasets  # imported where used: it slows every start-up
    spec = BUNDLED[name]
    rows = getattr(sklearn.datasets, spec.loader)().data[:, spec.columns].astype(np.float64)
    if split:
        order = np.random.default_rng(SPLIT_SEED).permutation(len(rows))
        cut = int(round((100 - percent) / 100 * len(rows)))
        rows = rows[order[:cut]] if split == "train" else rows[order[cut:]]
    return rows.astype(np.float32)
