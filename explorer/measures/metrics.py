"""Every number EnergyLab reports about a model, each defined once here with its equation.

- mode coverage (VEEGAN, Srivastava et al. 2017) of 2-D samples against known mode centres;
- log Z of a 2-D energy by quadrature on a grid, with the mass the grid's box misses;
- held-out NLL, and KL / total variation between two densities on the same grid;
- overlap of energy histograms (real vs generated);
- class histogram of generated digits from a classifier fitted on the real digits.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import logsumexp
from threadpoolctl import threadpool_limits

from explorer.data.digits import load_digits_scaled

_CHUNK = 65_536      # points per energy_fn call: bounds memory for a 400 x 400 grid and more
DIGIT_CLASSES = 10


def mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float) -> dict:
    """VEEGAN's mode coverage.

    A sample is high quality when its Euclidean distance to the nearest centre is at most 3 std;
    a mode is covered when it is the nearest centre of at least one high-quality sample.
    Returns modes_covered, modes_total and high_quality_fraction (high-quality samples / all).
    Non-finite samples (a diverged generator) are never high quality.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    distances = np.sqrt(((samples[:, None, :] - centers[None, :, :]) ** 2).sum(-1))   # (N, K)
    nearest = distances.argmin(axis=1)
    nearest_distance = distances[np.arange(len(samples)), nearest]
    high_quality = nearest_distance <= 3.0 * std      # NaN compares False
    return {
        "modes_covered": int(np.unique(nearest[high_quality]).size),
        "modes_total": int(len(centers)),
        "high_quality_fraction": float(high_quality.mean()) if len(samples) else 0.0,
    }



def mode_histogram_reverse_kl(samples: np.ndarray, centers: np.ndarray, std: float,
                              weights: np.ndarray | None = None) -> float | None:
    """PacGAN's third column: the reverse KL of the mode histogram, KL(q || p).

    q_k = the fraction of the high-quality samples (within 3 std of their nearest centre, as in
    mode_coverage) whose nearest centre is mode k; p_k = the mode's true weight (uniform unless
    given). KL(q || p) = sum_k q_k log(q_k / p_k), over the modes with q_k > 0: a missed mode costs
    through the mass piled on the others, never an infinity. None when no sample is high quality."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    p = np.full(len(centers), 1.0 / len(centers)) if weights is None else np.asarray(weights, dtype=np.float64)
    distances = np.sqrt(((samples[:, None, :] - centers[None, :, :]) ** 2).sum(-1))
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= 3.0 * std
    if not high_quality.any():
        return None
    q = np.bincount(nearest[high_quality], minlength=len(centers)) / high_quality.sum()
    present = q > 0
    return float((q[present] * np.log(q[present] / p[present])).sum())


def gaussian_mixture_nll(train: np.ndarray, heldout: np.ndarray, max_components: int = 8) -> tuple[float, int]:
    """A reference density for real points: the Gaussian mixture (1 to `max_components` full-
    covariance components, the lowest BIC on `train`) and its held-out NLL in nats per point,
    -mean log p_GMM(heldout). Returns (NLL, components)."""
    from sklearn.mixture import GaussianMixture
    train = np.asarray(train, dtype=np.float64)
    fits = [GaussianMixture(k, random_state=0, n_init=3).fit(train)
            for k in range(1, min(max_components, len(train) // 5) + 1)]
    best = min(fits, key=lambda fit: fit.bic(train))
    return float(-best.score(np.asarray(heldout, dtype=np.float64))), int(best.n_components)


def mode_weights(points: np.ndarray, centers: np.ndarray, mass: np.ndarray | None = None) -> np.ndarray:
    """The share of `points` (weighted by `mass`, e.g. a density's mass per grid cell) whose nearest
    centre is mode k: (K,) summing to 1. With a model's samples it is the generator's mixture
    weights; with p_E's mass per cell of a grid, the energy's."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    nearest = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), _CHUNK):   # bounds memory at _CHUNK x K
        block = points[start:start + _CHUNK]
        nearest[start:start + _CHUNK] = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(-1).argmin(axis=1)
    weights = np.ones(len(points)) if mass is None else np.asarray(mass, dtype=np.float64).ravel()
    totals = np.bincount(nearest, weights=weights, minlength=len(centers))
    return totals / totals.sum()

def cell_centres(low: float, high: float, cells: int) -> np.ndarray:
    """Midpoints of `cells` equal cells covering [low, high]."""
    width = (high - low) / cells
    return low + width * (np.arange(cells) + 0.5)


def _energies(energy_fn: Callable[[np.ndarray], np.ndarray], points: np.ndarray) -> np.ndarray:
    """energy_fn over float32 points in chunks, as float64."""
    points = points.astype(np.float32)
    out = np.empty(len(points))
    for start in range(0, len(points), _CHUNK):
        out[start:start + _CHUNK] = np.asarray(energy_fn(points[start:start + _CHUNK]), dtype=np.float64).reshape(-1)
    return out


RING_CELLS = 40   # coarse cells across the box's side when integrating the ring around it


def ring_layout(resolution: int, outer_factor: float = 3.0, ring_cells: int = RING_CELLS) -> tuple[int, int]:
    """(inner, pad) of `grid_log_partition`'s ring: `inner` coarse cells span the box, `pad` more on
    each side reach the outer box; the ring has (inner + 2 pad)^2 - inner^2 cells."""
    inner = max(1, min(ring_cells, round(resolution / outer_factor)))
    return inner, round(inner * (outer_factor - 1.0) / 2.0)


def grid_log_partition(energy_fn: Callable[[np.ndarray], np.ndarray],
                       bounds: tuple[float, float, float, float],
                       resolution: int = 400, outer_factor: float = 3.0, ring_cells: int = RING_CELLS) -> dict:
    """log Z of p(x) = exp(-E(x)) / Z over the box `bounds`, by the midpoint rule:

        log Z_box = logsumexp_cells(-E(cell centre)) + log(cell area)

    mass_outside = 1 - Z_box / Z_outer estimates how much of exp(-E) lies outside the box, where
    Z_outer covers a box `outer_factor` times as wide with the same centre. Z_outer = Z_box + Z_ring,
    the ring (outer box minus the box) integrated on a coarser grid aligned with the box edges, so
    the difference is never an artefact of two grids disagreeing inside the box. The ring has at
    most `ring_cells` cells across the box's side (fewer when the box's grid is coarser): out there
    exp(-E) is small and smooth, and a ring as fine as the box cost as much as the box again.

    energy_fn maps float32 (M, 2) points to (M,) energies. Returns log_z (the box), log_z_total
    (box + outer ring: the estimate to normalise with), mass_outside, xs (res,),
    ys (res,), energy (res, res) indexed [iy, ix] (rows are y, as heatmaps expect) and cell_area.
    """
    xmin, xmax, ymin, ymax = bounds
    xs, ys = cell_centres(xmin, xmax, resolution), cell_centres(ymin, ymax, resolution)
    cell_area = (xmax - xmin) / resolution * (ymax - ymin) / resolution
    gx, gy = np.meshgrid(xs, ys, indexing="xy")                        # (res, res), [iy, ix]
    energy = _energies(energy_fn, np.stack([gx.ravel(), gy.ravel()], axis=1))
    log_z = float(logsumexp(-energy) + math.log(cell_area))

    # coarse cells: `inner` of them span the box, `pad` more on each side reach the outer box
    inner, pad = ring_layout(resolution, outer_factor, ring_cells)
    mass_outside, log_z_total = 0.0, log_z
    if pad > 0:
        dx, dy = (xmax - xmin) / inner, (ymax - ymin) / inner
        cx = cell_centres(xmin - pad * dx, xmax + pad * dx, inner + 2 * pad)
        cy = cell_centres(ymin - pad * dy, ymax + pad * dy, inner + 2 * pad)
        ox, oy = np.meshgrid(cx, cy, indexing="xy")
        index = np.arange(inner + 2 * pad)
        in_box = ((index >= pad) & (index < pad + inner))
        ring = ~(in_box[:, None] & in_box[None, :])
        ring_energy = _energies(energy_fn, np.stack([ox[ring], oy[ring]], axis=1))
        log_z_ring = float(logsumexp(-ring_energy) + math.log(dx * dy))
        # 1 - Z_box / (Z_box + Z_ring) = Z_ring / (Z_box + Z_ring), computed in log space
        log_z_total = float(np.logaddexp(log_z, log_z_ring))
        mass_outside = float(np.clip(np.exp(log_z_ring - log_z_total), 0.0, 1.0))

    return {"log_z": log_z, "log_z_total": log_z_total, "mass_outside": mass_outside, "xs": xs, "ys": ys,
            "energy": energy.reshape(resolution, resolution), "cell_area": cell_area}


def nll(energies_of_heldout: np.ndarray, log_z: float) -> float:
    """Mean negative log-likelihood in nats per point: -mean log p(x) = mean E(x) + log Z."""
    return float(np.mean(np.asarray(energies_of_heldout, dtype=np.float64)) + log_z)


def grid_divergences(log_p_true: np.ndarray, log_p_model: np.ndarray, cell_area: float) -> dict:
    """KL(true || model) and total variation between two densities tabulated on the same grid.

    Both are renormalised on the grid first, p = exp(log p) / sum(exp(log p) * area), then
        KL = sum p log(p / q) * area        (cells with p = 0 contribute 0)
        TV = 0.5 * sum |p - q| * area
    KL is inf when the model puts zero density where the truth has mass.
    """
    log_area = math.log(cell_area)
    log_p = np.asarray(log_p_true, dtype=np.float64)
    log_q = np.asarray(log_p_model, dtype=np.float64)
    log_p = log_p - logsumexp(log_p) - log_area       # now sum exp(log_p) * area = 1
    log_q = log_q - logsumexp(log_q) - log_area
    p, q = np.exp(log_p), np.exp(log_q)
    with np.errstate(invalid="ignore"):               # -inf - -inf where p = 0 is masked below
        kl_terms = np.where(p > 0, p * (log_p - log_q), 0.0)
    return {"kl_true_to_model": float(kl_terms.sum() * cell_area),
            "total_variation": float(0.5 * np.abs(p - q).sum() * cell_area)}


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return values[np.isfinite(values)]


def _shared_edges(arrays: list[np.ndarray], bins: int) -> np.ndarray:
    joined = np.concatenate(arrays)
    return np.histogram_bin_edges(joined, bins=bins) if joined.size else np.linspace(0.0, 1.0, bins + 1)


def histogram_overlap(a, b, bins: int = 50) -> float:
    """Overlap coefficient of two histograms on a shared bin range: sum_bins min(P_a, P_b), where
    P are bin probabilities. 1 for identical samples, 0 for samples with disjoint ranges.
    Non-finite values are left out; NaN when either side has no finite values."""
    a, b = _finite(a), _finite(b)
    if not (a.size and b.size):
        return float("nan")
    edges = _shared_edges([a, b], bins)
    prob_a = np.histogram(a, bins=edges)[0] / a.size
    prob_b = np.histogram(b, bins=edges)[0] / b.size
    return float(np.minimum(prob_a, prob_b).sum())


def energy_histograms(real, fake, noise, bins: int = 50) -> dict:
    """Counts of the energies of real data, generated samples and uniform noise on shared bin
    edges (for one plot), and histogram_overlap(real, fake). Non-finite energies are left out."""
    real, fake, noise = _finite(real), _finite(fake), _finite(noise)
    edges = _shared_edges([real, fake, noise], bins)
    return {
        "edges": edges,
        "counts_real": np.histogram(real, bins=edges)[0],
        "counts_fake": np.histogram(fake, bins=edges)[0],
        "counts_noise": np.histogram(noise, bins=edges)[0],
        "overlap_real_fake": histogram_overlap(real, fake, bins),
    }


class DigitsClassifier:
    """Multinomial logistic regression on the 64 pixels of the real digits (load_digits_scaled).

    `accuracy` is measured on a fixed, stratified 20 % held-out split (0.969); the model is
    then refitted on all 1,797 digits. It turns generated digits into a class histogram, which
    makes mode collapse measurable.
    """

    def __init__(self, random_state: int = 0):
        from sklearn.model_selection import train_test_split  # here: scikit-learn slows start-up (docs/speed.md)
        images, labels = load_digits_scaled()
        train_x, test_x, train_y, test_y = train_test_split(
            images, labels, test_size=0.2, stratify=labels, random_state=random_state)
        # one BLAS thread: on 2 cores, threaded BLAS on these tiny matrices makes the fit far slower (docs/speed.md)
        with threadpool_limits(1, user_api="blas"):
            self.model = self._new_model(random_state).fit(train_x, train_y)
            self.accuracy = float(self.model.score(test_x, test_y))
            self.model = self._new_model(random_state).fit(images, labels)

    @staticmethod
    def _new_model(random_state: int):
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(max_iter=2000, random_state=random_state)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted digit classes, (N,) int64, for images (N, 64) scaled to [-1, 1]."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 2 or images.shape[1] != 64:
            raise ValueError(f"expected images of shape (N, 64), got {images.shape}")
        with threadpool_limits(1, user_api="blas"):
            return self.model.predict(images).astype(np.int64)

    def class_report(self, images: np.ndarray) -> dict:
        """Class histogram of `images`: class_counts (10 ints), classes_covered (classes with a
        count > 0) and class_kl_uniform = KL(hist || uniform) = sum_{p_c > 0} p_c log(p_c / 0.1)
        in nats: 0 for a uniform histogram, log 10 when every image is one class."""
        counts = np.bincount(self.predict(images), minlength=DIGIT_CLASSES)
        if counts.sum() == 0:
            raise ValueError("class_report needs at least one image")
        probs = counts / counts.sum()
        seen = probs > 0
        return {
            "class_counts": [int(c) for c in counts],
            "classes_covered": int(seen.sum()),
            "class_kl_uniform": float(np.sum(probs[seen] * np.log(probs[seen] * DIGIT_CLASSES))),
        }
