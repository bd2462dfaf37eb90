"""Three densities of one 2-D problem on one grid, and the KL divergences between them.

The method has two models of the data (Kim & Bengio 2016): the energy's normalised density
p_E(x) = exp(-E(x)) / Z and the generator's p_G, trained towards each other by KL(p_G || p_E) while
p_E is trained towards the data. Seeing p_data, p_E and p_G side by side shows which of the two
learned the data, and which one a collapse lives in.

- p_data: exact for the ring and grid mixtures (mixtures.Mixture.log_density) and the shapes (their
  noise averaged along the curve: explorer/data/shape_densities.py); for a user's points there is
  no closed form, so a Gaussian kernel density estimate of the points themselves;
- p_E: exp(-E) / Z with log Z by quadrature on the grid plus the ring around it
  (probes.landscape, the Landscape tab's own normalisation);
- p_G: a Gaussian kernel density estimate of GENERATOR_SAMPLES generator samples (of the chains,
  for the Langevin baseline).

The kernel density estimate on the grid's cell centres g,
    p_h(g) = 1/N sum_i phi_h(g_x - x_i) phi_h(g_y - y_i),   phi_h the 1-D N(0, h^2) density,
is exact (no binning): with Kx[a, i] = phi_h(g_a - x_i) it is the matrix product Ky Kx^T / N.
h is chosen from a few multiples of the cell width by the log-likelihood of held-out samples.
An estimate is then mixed with UNIFORM_FLOOR of the uniform density over the box, so that a KL
with it in second place stays finite where it has no samples (a collapsed generator).
KL is computed on the grid with each density renormalised over the box (metrics.grid_divergences).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from explorer.measures import evaluation, metrics, probes
from explorer.seeds import DENSITY_SAMPLES_OFFSET

RESOLUTION = probes.FINE_RESOLUTION   # cells per side: the Landscape's own grid when still
TRAINING_RESOLUTION = 100             # while training: the probe holds the models' lock ~2x shorter
GENERATOR_SAMPLES = 10_000            # samples behind p_G's estimate
DATA_SAMPLES = 10_000                 # draws behind p_data's estimate (shapes), or at most this many points
HELDOUT_FRACTION = 0.2                # of the samples, kept aside to choose the bandwidth
BANDWIDTH_CELLS = (0.6, 0.85, 1.2, 1.7, 2.4, 3.4, 4.8, 6.8, 9.6)   # candidate h, in cell widths
UNIFORM_FLOOR = 1e-3                  # share of the uniform density mixed into an estimate
LOADED_CHAINS = 2000                  # Langevin chains run for a pair whose chains have not run yet


@dataclass(frozen=True)
class Grid:
    """Cell centres over the box (xmin, xmax, ymin, ymax), as metrics.grid_log_partition lays them."""
    xs: np.ndarray
    ys: np.ndarray
    bounds: tuple

    @property
    def cell_area(self) -> float:
        xmin, xmax, ymin, ymax = self.bounds
        return (xmax - xmin) / len(self.xs) * (ymax - ymin) / len(self.ys)

    @property
    def cell_width(self) -> float:
        return math.sqrt(self.cell_area)

    def points(self) -> np.ndarray:
        """(R * R, 2) cell centres in the [iy, ix] order of a heatmap's rows."""
        gx, gy = np.meshgrid(self.xs, self.ys, indexing="xy")
        return np.stack([gx.ravel(), gy.ravel()], axis=1)


def make_grid(bounds, resolution: int = RESOLUTION) -> Grid:
    xmin, xmax, ymin, ymax = (float(b) for b in bounds)
    return Grid(metrics.cell_centres(xmin, xmax, resolution), metrics.cell_centres(ymin, ymax, resolution),
                (xmin, xmax, ymin, ymax))


# ---------------------------------------------------------------------------- kernel density estimates
def _kernel_matrix(centres: np.ndarray, values: np.ndarray, bandwidth: float) -> np.ndarray:
    """phi_h(centre_a - value_i) as (len(centres), len(values)) float32."""
    z = (centres[:, None].astype(np.float32) - values[None, :].astype(np.float32)) / np.float32(bandwidth)
    return np.exp(-0.5 * z * z) / np.float32(bandwidth * math.sqrt(2.0 * math.pi))


def kde_on_grid(samples: np.ndarray, grid: Grid, bandwidth: float) -> np.ndarray:
    """The Gaussian product-kernel density estimate at the grid's cell centres, (R, R) float64
    indexed [iy, ix]: Ky @ Kx^T / N. Integrates to 1 over the plane (not over the box)."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    kx, ky = _kernel_matrix(grid.xs, x[:, 0], bandwidth), _kernel_matrix(grid.ys, x[:, 1], bandwidth)
    return (ky @ kx.T).astype(np.float64) / len(x)


def with_floor(density: np.ndarray, grid: Grid, floor: float = UNIFORM_FLOOR) -> np.ndarray:
    """log((1 - floor) p + floor / box area): finite everywhere on the box."""
    xmin, xmax, ymin, ymax = grid.bounds
    return np.log((1.0 - floor) * density + floor / ((xmax - xmin) * (ymax - ymin)))


def _cell_index(points: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iy, ix, inside) of each point's cell."""
    xmin, xmax, ymin, ymax = grid.bounds
    ix = np.floor((points[:, 0] - xmin) / (xmax - xmin) * len(grid.xs)).astype(np.int64)
    iy = np.floor((points[:, 1] - ymin) / (ymax - ymin) * len(grid.ys)).astype(np.int64)
    inside = (ix >= 0) & (ix < len(grid.xs)) & (iy >= 0) & (iy < len(grid.ys))
    return iy, ix, inside


@dataclass(frozen=True)
class Estimate:
    """A kernel density estimate on a grid: log density (floored), its bandwidth and sample count."""
    log_density: np.ndarray
    bandwidth: float
    samples: int
    scores: dict = field(default_factory=dict, repr=False)   # bandwidth -> held-out mean log density


def estimate_density(samples: np.ndarray, grid: Grid, seed: int = 0,
                     candidates=BANDWIDTH_CELLS, heldout_fraction: float = HELDOUT_FRACTION,
                     floor: float = UNIFORM_FLOOR) -> Estimate:
    """A Gaussian KDE of 2-D samples on `grid`, its bandwidth chosen by held-out likelihood.

    A random `heldout_fraction` of the (finite) samples is kept aside; for each candidate
    h = c * cell width the estimate of the rest is tabulated on the grid and scored by the mean
    log density (floored) of the held-out samples' cells inside the box. The best h is used
    for the estimate of all samples.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    x = x[np.isfinite(x).all(axis=1)]
    if len(x) < 10:
        raise ValueError(f"a density estimate needs at least 10 finite samples, got {len(x)}")
    order = np.random.default_rng(seed).permutation(len(x))
    split = max(1, int(round(len(x) * heldout_fraction)))
    heldout, train = x[order[:split]], x[order[split:]]
    iy, ix, inside = _cell_index(heldout, grid)
    scores = {}
    # one BLAS thread: on 2 cores shared with training, a threaded matmul here was slower (docs/speed.md)
    with threadpool_limits(1, user_api="blas"):
        for c in candidates:
            h = c * grid.cell_width
            log_p = with_floor(kde_on_grid(train, grid, h), grid, floor)
            scores[h] = float(log_p[iy[inside], ix[inside]].mean()) if inside.any() else -math.inf
        best = max(scores, key=scores.get)
        log_density = with_floor(kde_on_grid(x, grid, best), grid, floor)
    return Estimate(log_density, best, len(x), scores)


# ---------------------------------------------------------------------------- divergences
def kl_on_grid(log_p: np.ndarray, log_q: np.ndarray, cell_area: float) -> float:
    """KL(p || q) = sum p log(p / q) * area, each renormalised over the grid (metrics.grid_divergences)."""
    return metrics.grid_divergences(log_p, log_q, cell_area)["kl_true_to_model"]


def pairwise_kl(log_data: np.ndarray, log_energy: np.ndarray, log_generator: np.ndarray, cell_area: float) -> dict:
    """The three divergences the view reports, in nats:
    data_energy = KL(p_data || p_E), data_generator = KL(p_data || p_G), generator_energy = KL(p_G || p_E)
    (the generator's own training objective, up to its entropy estimate)."""
    return {"data_energy": kl_on_grid(log_data, log_energy, cell_area),
            "data_generator": kl_on_grid(log_data, log_generator, cell_area),
            "generator_energy": kl_on_grid(log_generator, log_energy, cell_area)}


# ---------------------------------------------------------------------------- the view of a pair
@dataclass(frozen=True)
class DensityView:
    """The three log densities on one grid, the KLs between them and how each was obtained."""
    grid: Grid
    log_data: np.ndarray
    log_energy: np.ndarray
    log_generator: np.ndarray
    kl: dict
    notes: dict             # "data", "energy", "generator" -> one sentence each
    step: int
    sampler: str            # "generator" or "langevin"
    data_exact: bool
    seconds: float = 0.0


def data_density(dataset, grid: Grid, seed: int = 0) -> tuple[np.ndarray, bool, str]:
    """(log p_data on the grid, exact?, how it was obtained) for a 2-D dataset."""
    if dataset.mixture is not None:
        mixture = dataset.mixture
        log_p = mixture.log_density(grid.points()).reshape(len(grid.ys), len(grid.xs))
        return log_p, True, (f"exact: the mixture of {len(mixture.centers)} Gaussians (std {mixture.std:g}) "
                             "the data is drawn from")
    if dataset.has_density:   # a shape: its noise averaged along its curve (explorer/data/shape_densities.py)
        log_p = dataset.log_density_on_grid(grid.xs, grid.ys).reshape(len(grid.ys), len(grid.xs))
        return log_p, True, f"exact: the {dataset.name} shape's own density, by quadrature along its curve"
    rng = np.random.default_rng(seed)
    if dataset.points is not None:
        points = dataset.points
        if len(points) > DATA_SAMPLES:
            points = points[rng.choice(len(points), size=DATA_SAMPLES, replace=False)]
        subset = " (a random subset)" if len(dataset.points) > DATA_SAMPLES else ""
        what = f"the {len(points):,} training points{subset}"
    else:
        points = dataset.sample(DATA_SAMPLES, rng)
        what = f"{DATA_SAMPLES:,} draws of the {dataset.name} shape"
    estimate = estimate_density(points, grid, seed)
    return estimate.log_density, False, (f"an estimate (no closed form): Gaussian kernel density estimate of {what}, "
                                         f"bandwidth {estimate.bandwidth:.3g} chosen by held-out likelihood")


@dataclass(frozen=True)
class PairCopy:
    """A pair frozen for the view: copies of the networks taken under the session's lock (a few
    ms), so that the landscape and the samples are computed while training goes on."""
    energy: object
    generator: object | None          # None for the Langevin baseline
    options: dict
    dataset: object
    step: int
    seed: int                         # the run's probe seed: the view's samples come from it
    chains: np.ndarray | None = None  # the Langevin baseline's persistent chains, once they have run


def copy_pair(run) -> PairCopy:
    """Call under the session's lock."""
    langevin = run.state.langevin
    chains = None
    if langevin is not None and (run.chains_live or run.step == 0):   # at step 0: the chains' uniform start
        chains = langevin.buffer[:GENERATOR_SAMPLES].detach().cpu().numpy().copy()
    generator = copy.deepcopy(run.sampling_generator) if run.options["sampler"] == "generator" else None
    return PairCopy(copy.deepcopy(run.energy), generator, dict(run.options), run.dataset, run.step,
                    run.probe_seed, chains)


def model_samples(pair: PairCopy, n: int = GENERATOR_SAMPLES) -> tuple[np.ndarray, str]:
    """Samples of the pair's model and what they are: G(z) (seeded), or for the Langevin baseline
    its persistent chains (a loaded pair, whose chains are not saved: LOADED_CHAINS long-run
    chains from noise, a few seconds)."""
    seed = pair.seed + DENSITY_SAMPLES_OFFSET
    if pair.generator is not None:
        refined = pair.options.get("refine") or 0
        what = f"{n:,} generator samples" + (f", each refined by {refined} Langevin steps" if refined else "")
        return evaluation.model_samples(pair.energy, pair.generator, pair.options, n, seed), what
    if pair.chains is not None:
        return pair.chains[:n], f"the {len(pair.chains[:n]):,} persistent Langevin chains"
    chains = evaluation.model_samples(pair.energy, None, pair.options, LOADED_CHAINS, seed, pair.dataset.bounds)
    return chains, f"{LOADED_CHAINS:,} Langevin chains run {evaluation.LANGEVIN_EVAL_STEPS} steps from uniform noise"


def probe_pair(pair: PairCopy, resolution: int = RESOLUTION, samples: tuple | None = None) -> dict:
    """What the view needs from the models: p_E's landscape on the grid and the model's samples
    (`samples`: (array, description) already drawn). Everything after this is numpy."""
    landscape = probes.landscape(pair.energy, pair.dataset.bounds, resolution)
    samples, what = samples if samples is not None else model_samples(pair)
    return {"landscape": landscape, "samples": samples, "what": what, "step": pair.step,
            "sampler": pair.options["sampler"]}


def density_view(probe: dict, dataset, data_cache: list | None = None, seed: int = 0) -> DensityView:
    """The three densities and their KLs from `probe_pair`'s output. `data_cache` (a list the
    caller keeps) holds p_data per grid resolution of the current dataset: it never changes
    during a run, and for shapes and points it is itself an estimate worth keeping."""
    started = time.perf_counter()
    land = probe["landscape"]
    grid = make_grid(dataset.bounds, len(land.xs))
    cached = [entry for entry in data_cache or () if entry[0] is dataset and entry[1] == len(land.xs)]
    if cached:
        log_data, exact, data_note = cached[0][2]
    else:
        log_data, exact, data_note = data_density(dataset, grid, seed)
        if data_cache is not None:   # the current dataset's entries only (a new run drops the old ones)
            data_cache[:] = [entry for entry in data_cache if entry[0] is dataset]
            data_cache.append((dataset, len(land.xs), (log_data, exact, data_note)))
    log_energy = land.log_density.astype(np.float64)
    estimate = estimate_density(probe["samples"], grid, seed)
    outside = land.mass_outside
    notes = {
        "data": data_note,
        "energy": (f"exact up to quadrature: exp(-E)/Z, log Z = {land.log_z:.3f} by the midpoint rule on this "
                   f"{len(land.xs)} x {len(land.xs)} grid and the ring around it ({outside:.1%} of the mass "
                   "outside the box)"),
        "generator": (f"an estimate: Gaussian kernel density estimate of {probe['what']}, bandwidth "
                      f"{estimate.bandwidth:.3g} chosen by held-out likelihood, mixed with {UNIFORM_FLOOR:.1%} "
                      "uniform so that KL stays finite where it has no samples"),
    }
    kl = pairwise_kl(log_data, log_energy, estimate.log_density, grid.cell_area)
    return DensityView(grid=grid, log_data=log_data, log_energy=log_energy, log_generator=estimate.log_density,
                       kl=kl, notes=notes, step=probe["step"], sampler=probe["sampler"], data_exact=exact,
                       seconds=time.perf_counter() - started)
