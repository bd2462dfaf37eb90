"""scikit-learn's 8 x 8 handwritten digits, scaled to [-1, 1] (they ship with scikit-learn: nothing is downloaded)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np


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
