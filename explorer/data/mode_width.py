"""How wide the data's modes are: the typical standard deviation of the components of the Gaussian
mixture that BIC chooses for the data (--mode-frame, explorer/config/build.py data_frame).

The pooled standard deviation says how far apart the data lie; it says nothing about how sharp they
are. A ring of radius 1 with modes of std 0.01 and one of radius 2 with std 0.05 have pooled stds
0.71 and 1.41, but their modes are 71 and 28 times narrower than that. This measures the modes' width
from the data alone, so that the networks' frame can resolve it.
"""
from __future__ import annotations

import numpy as np

# Component counts tried (BIC picks one): a geometric ladder to 64, so a 7 x 7 grid is resolved
# without fitting every count. Over- or under-splitting a little moves a component's std by a
# fraction, which a frame (a unit within a factor of a few) does not notice.
COMPONENT_LADDER = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
POINTS_PER_COMPONENT = 10   # no more components than the data can place: n / 10
MAX_POINTS = 3000           # a fixed subsample of larger sets: the width is a property of the data, not of n
PATIENCE = 2                # rungs past the best BIC tried before stopping: the large fits cost the most


def mode_width(points: np.ndarray, seed: int = 0) -> float:
    """The weighted median, over the BIC-chosen mixture's components, of each component's std
    sqrt(trace(Sigma_k) / d) (d the dimension): the width of a typical point's mode, in the data's
    units. Deterministic for given points (a fixed subsample and a fixed k-means start)."""
    from sklearn.mixture import GaussianMixture   # imported here: only training a 2-D run needs it

    points = np.asarray(points, dtype=np.float64)
    if len(points) > MAX_POINTS:
        points = points[np.random.default_rng(seed).choice(len(points), MAX_POINTS, replace=False)]
    # a floor under each covariance, relative to the data's spread: repeated values (a rounded
    # feature) would otherwise make a component of zero width
    floor = 1e-6 * float(points.var(axis=0).mean())
    distinct = len(np.unique(points, axis=0))   # rounded data: no more components than sites
    best, best_bic, worse = None, np.inf, 0
    for components in COMPONENT_LADDER:
        if components > 1 and (components * POINTS_PER_COMPONENT > len(points) or components > distinct):
            break
        fit = GaussianMixture(components, covariance_type="full", reg_covar=floor, random_state=seed,
                              max_iter=200).fit(points)
        bic = fit.bic(points)
        if bic < best_bic:
            best, best_bic, worse = fit, bic, 0
        else:
            worse += 1
            if worse == PATIENCE:   # BIC has risen past the data's modes (1.5 and 2 times the best count)
                break
    widths = np.sqrt(np.trace(best.covariances_, axis1=1, axis2=2) / points.shape[1])
    order = np.argsort(widths)
    cumulative = np.cumsum(best.weights_[order])
    return float(widths[order][np.searchsorted(cumulative, 0.5)])
