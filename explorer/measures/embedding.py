"""UMAP views of real data and generated samples together (umap-learn, imported only when used).

Speed: for a few thousand points umap-learn would compute all pairwise distances through a
Python-level metric or compile its approximate search on first use, both slow; scikit-learn's
exact k nearest neighbours are far quicker (docs/speed.md), so they are handed to UMAP
(`precomputed_knn`). A later embedding of the same
real points (a new step of the run, another pair of the same data) starts from the previous
layout: each new sample starts where its nearest old point was, and fewer epochs are run, so
live updates are quicker and the picture does not jump.

What UMAP shows and does not: neighbourhoods. Points close in the plot were close among their
15 nearest neighbours in data space; distances between clusters, cluster sizes and densities are
not faithful. A collapsed generator shows as generated points piled into a few islands among the
real ones; points in a region of no real data are samples unlike any real one.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

N_NEIGHBORS = 15
EPOCHS_FRESH = 200       # umap-learn's default for small data is 500; 200 already settles 4,000 points
EPOCHS_WARM = 80         # starting from the previous layout


@dataclass(frozen=True)
class Embedding:
    real_2d: np.ndarray      # (M, 2)
    fake_2d: np.ndarray      # (N, 2)
    real: np.ndarray         # (M, d) the embedded points themselves
    fake: np.ndarray         # (N, d)
    seconds: float
    warm_start: bool


def _neighbours(data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors
    distances, indices = NearestNeighbors(n_neighbors=k).fit(data).kneighbors(data)
    return indices, distances.astype(np.float32)


def _warm_layout(previous: Embedding, data: np.ndarray) -> np.ndarray:
    """Initial 2-D positions for `data`: the layout position of each point's nearest previous point."""
    from sklearn.neighbors import NearestNeighbors
    old = np.concatenate([previous.real, previous.fake])
    old_2d = np.concatenate([previous.real_2d, previous.fake_2d])
    nearest = NearestNeighbors(n_neighbors=1).fit(old).kneighbors(data, return_distance=False)[:, 0]
    jitter = np.random.default_rng(0).normal(scale=1e-3 * old_2d.std(), size=(len(data), 2))
    return (old_2d[nearest] + jitter).astype(np.float32)


def embed(real: np.ndarray, fake: np.ndarray, seed: int = 0, previous: Embedding | None = None) -> Embedding:
    """UMAP of real and generated points together; `previous` (same real points) warm-starts it."""
    started = time.perf_counter()
    import umap  # heavy (numba): only when the embedding view is used

    real = np.asarray(real, dtype=np.float32)
    fake = np.asarray(fake, dtype=np.float32)
    data = np.concatenate([real, fake])
    k = min(N_NEIGHBORS, len(data) - 1)
    indices, distances = _neighbours(data, k)
    warm = previous is not None and previous.real.shape == real.shape and np.array_equal(previous.real, real)
    init = _warm_layout(previous, data) if warm else "spectral"
    reducer = umap.UMAP(n_neighbors=k, random_state=seed, n_jobs=1, init=init,
                        n_epochs=EPOCHS_WARM if warm else EPOCHS_FRESH,
                        precomputed_knn=(indices, distances, None))
    with warnings.catch_warnings():  # "no search index, so no transform": we never transform
        warnings.simplefilter("ignore", UserWarning)
        layout = reducer.fit_transform(data).astype(np.float32)
    return Embedding(layout[:len(real)], layout[len(real):], real, fake, time.perf_counter() - started, warm)
