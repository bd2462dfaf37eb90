"""Every number EnergyLab reports about a trained pair, computed in one place.

Used by `python -m explorer.evaluate`, by `explorer.train` (metrics.json) and by a live run's
metric history, so the command line and the app never disagree.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from explorer.config.build import langevin_step_in_data_units
from explorer.data.datasets import Dataset
from explorer.measures import metrics
from explorer.seeds import EVALUATION_NOISE_OFFSET, HELDOUT_OFFSET
from models import DeepEnergy, Generator, langevin_chain, refine
from models.importance import resample

LANGEVIN_EVAL_STEPS = 500   # long-run chains from uniform noise, for a Langevin-trained energy
QUADRATURE_RESOLUTION = 400  # cells per side of the grid that normalises the energy in 2-D


CPU_BLOCK_FLOATS = 2**18    # activations per forward pass on a CPU: 1 MiB of float32 stays in cache


def energy_fn(energy: DeepEnergy):
    """numpy (M, d) -> numpy (M,) energies, without gradients, on the model's device.

    On a CPU, in blocks of CPU_BLOCK_FLOATS / width points (2,048 for width 128): a 200 x 200
    landscape in one pass ran slower (docs/speed.md), its activations spilling out of the cache. Many blocks
    are shared out over the machine's cores (torch lets go of the interpreter lock inside each
    product, and a block's result does not depend on which thread computed it)."""
    device = next(energy.parameters()).device
    block = max(256, CPU_BLOCK_FLOATS // max(energy.config.hidden, energy.config.experts))

    def one_block(part: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():   # per thread: grad mode is thread-local
            return energy(part)

    def evaluate(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(points, dtype=torch.float32, device=device)
            if device.type == "cpu" and len(x) > block:
                parts = x.split(block)
                pool = _block_pool() if len(parts) >= PARALLEL_MIN_BLOCKS else None
                energies = list(pool.map(one_block, parts)) if pool is not None else [one_block(p) for p in parts]
                return torch.cat(energies).double().numpy()
            return energy(x).double().cpu().numpy()
    return evaluate


PARALLEL_MIN_BLOCKS = 8     # fewer blocks (a live frame's 48 x 48 grid: 2) are not worth a hand-off


@functools.cache
def _block_pool():
    """Threads for energy blocks, one a core; None on a one-core machine."""
    cores = os.cpu_count() or 1
    return ThreadPoolExecutor(max_workers=cores, thread_name_prefix="energylab-blocks") if cores > 1 else None


def uniform_in_box(n: int, dim: int, bounds, generator) -> torch.Tensor:
    """n points uniform over the data box: (xmin, xmax, ymin, ymax) in 2-D, [-1, 1]^dim otherwise."""
    device = generator.device
    if bounds is not None and dim == 2:
        low = torch.tensor([bounds[0], bounds[2]], dtype=torch.float32, device=device)
        high = torch.tensor([bounds[1], bounds[3]], dtype=torch.float32, device=device)
    else:
        low, high = torch.full((dim,), -1.0, device=device), torch.full((dim,), 1.0, device=device)
    return low + (high - low) * torch.rand(n, dim, generator=generator, device=device)


def model_samples(energy: DeepEnergy, generator: Generator, options: dict, n: int, seed: int,
                  bounds=None) -> np.ndarray:
    """n samples of the trained model: G(z) for the paper's method, with `refine` = K moved by K
    Langevin steps on E as in training (models/langevin.py refine; the noise from the same seeded
    stream, after the latents); for the Langevin baseline, long-run chains (LANGEVIN_EVAL_STEPS
    steps) started from uniform noise over the data box. Every caller's cost includes the
    refinement: K energy gradients per sample, ~K times a generator pass (train_to_completion's
    evaluate_seconds, a frame's own time)."""
    device = next(energy.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    # the step in data units: with `standardise` --langevin-step-size is in the networks' units
    step_size = langevin_step_in_data_units(options, energy.config.unit)
    metropolis = bool(options.get("metropolis"))
    if energy.config.langevin_step is not None:   # the step adapted to this energy in training, by MALA
        step_size, metropolis = energy.config.langevin_step, True
    if options["sampler"] == "generator":
        candidates = options.get("resample") or 1   # options saved before the setting existed: none
        x = generator.sample(n * candidates, rng)
        share = options.get("uniform_negatives") or 0.0
        if candidates > 1 and share > 0 and bounds is not None:
            # candidates uniform over the box too, as in training: where G never goes but p_E has
            # mass (a small mode G dropped), they are what the resampling can keep
            x = torch.cat([x, uniform_in_box(round(share * n * candidates), x.shape[1], bounds, rng).to(x)])
        steps = options.get("refine") or 0
        x = refine(energy, x, steps, step_size, rng, metropolis)
        if candidates > 1:   # keep n of the n M candidates, drawn with weights towards p_E (models/importance.py)
            with torch.no_grad():
                x = resample(x, energy(x), n, rng)
        return x.cpu().numpy()
    start = uniform_in_box(n, energy.config.data_dim, bounds, rng)
    was_training = energy.training
    energy.eval()
    try:
        x = langevin_chain(energy, start, LANGEVIN_EVAL_STEPS, step_size, rng, metropolis)
    finally:
        energy.train(was_training)
    return x.cpu().numpy()


@functools.lru_cache(maxsize=1)
def digits_classifier() -> metrics.DigitsClassifier:
    """Fitted once per process: it is deterministic and the same for every user."""
    return metrics.DigitsClassifier()


def evaluate_pair(energy: DeepEnergy, generator: Generator, options: dict, dataset: Dataset | None,
                  *, samples: int = 2500, seed: int = 0, heldout: np.ndarray | None = None,
                  bounds=None, resolution: int = QUADRATURE_RESOLUTION, weights: bool = True) -> dict:
    """The metrics of DESIGN.md that apply to this pair and data (`weights`: also KL(p_data || p_E)
    on the grid and the modes' recovered weights, passes over every grid cell that a live run's
    progress checks skip).

    Real data to score: `heldout` (points already standardised like the training data) when
    given; else fresh draws from a known mixture or shape (held out by construction); else the
    training points themselves, whose NLL is then reported as `nll_train`, not `nll`.
    `bounds`: the box for quadrature and noise (defaults to the dataset's).
    """
    box = bounds or (dataset.bounds if dataset is not None else None)
    fake = model_samples(energy, generator, options, samples, seed, box)
    energies = energy_fn(energy)
    energy_fake = energies(fake)
    result: dict = {"samples": samples, "seed": seed, "energy_fake_mean": float(energy_fake.mean())}
    if not np.isfinite(fake).all():
        result["warning"] = "the model produced NaN or infinite samples"
        return result
    rng = np.random.default_rng(seed + HELDOUT_OFFSET)  # held-out data: a stream apart from the model's
    real, nll_key = heldout, "nll"
    if real is None and dataset is not None:
        if dataset.points is None:
            real = dataset.sample(samples, rng)
        else:
            real, nll_key = dataset.points, "nll_train"
    energy_real = energies(real) if real is not None else None
    if energy_real is not None:
        result["energy_real_mean"] = float(energy_real.mean())

    if energy.config.data_dim == 2 and box is not None:
        if dataset is not None and dataset.mixture is not None:
            mixture = dataset.mixture
            result.update(metrics.mode_coverage(fake, mixture.centers, mixture.std))
            if options["sampler"] == "generator":
                # the generator's own samples G(z), before any refinement and resampling: what its
                # entropy term shapes, and what collapses without it. Without either (the paper's
                # method) model_samples drew exactly these, from the same seeded latents: not drawn twice
                coverage = result
                if options.get("refine") or (options.get("resample") or 1) > 1:
                    latents = torch.Generator(device=next(generator.parameters()).device).manual_seed(seed)
                    own = generator.sample(samples, latents).cpu().numpy()
                    coverage = metrics.mode_coverage(own, mixture.centers, mixture.std)
                result["modes_covered_generator"] = coverage["modes_covered"]
                result["high_quality_fraction_generator"] = coverage["high_quality_fraction"]
            result["reverse_kl"] = metrics.mode_histogram_reverse_kl(fake, mixture.centers, mixture.std,
                                                                     mixture.weights)
        quad = metrics.grid_log_partition(energies, box, resolution=resolution)
        # normalise with the box and the ring around it, so mass outside the data box is not lost
        result["log_z"], result["mass_outside"] = float(quad["log_z_total"]), float(quad["mass_outside"])
        if energy_real is not None:
            result[nll_key] = metrics.nll(energy_real, quad["log_z_total"])
            if nll_key == "nll" and heldout is None and dataset is not None and dataset.has_density:
                # the truth's own NLL on the same points: the model's NLL read as a gap above it
                # (an estimate of KL(p_data || p_E) from the held-out draws)
                result["nll_true"] = float(-dataset.log_density(real).mean())
                result["nll_gap"] = result["nll"] - result["nll_true"]
        if dataset is not None and dataset.has_density and heldout is None and weights:
            log_p_true = dataset.log_density_on_grid(quad["xs"], quad["ys"]).reshape(quad["energy"].shape)
            result.update(metrics.grid_divergences(log_p_true, -quad["energy"], quad["cell_area"]))
            if dataset.mixture is not None:   # the modes' weights: each grid cell to its nearest mode
                gx, gy = np.meshgrid(quad["xs"], quad["ys"])
                result.update(weight_errors(dataset.mixture, np.stack([gx.ravel(), gy.ravel()], axis=1), quad, fake))
    elif dataset is not None and dataset.labels is not None:
        report = digits_classifier().class_report(fake)
        result.update({k: report[k] for k in ("classes_covered", "class_kl_uniform", "class_counts")})
    if energy_real is not None:
        noise = uniform_in_box(samples, energy.config.data_dim, box,
                               torch.Generator().manual_seed(seed + EVALUATION_NOISE_OFFSET)).numpy()
        result["energy_overlap_real_fake"] = metrics.histogram_overlap(energy_real, energy_fake)
        result["energy_noise_mean"] = float(energies(noise).mean())
    return result


def weight_errors(mixture, grid_points: np.ndarray, quad: dict, fake: np.ndarray) -> dict:
    """Does the pair recover the modes' weights, not only the modes? (EGAN's 0.9 / 0.1 test):
    the total variation between the true weights and p_E's mass per mode (each quadrature cell to
    its nearest mode), and the generator's samples per mode."""
    mass = np.exp(-quad["energy"] - quad["log_z_total"]) * quad["cell_area"]
    true_weights = mixture.weights
    energy_weights = metrics.mode_weights(grid_points, mixture.centers, mass)
    generator_weights = metrics.mode_weights(fake, mixture.centers)
    result = {"weight_error_energy": float(0.5 * np.abs(energy_weights - true_weights).sum()),
              "weight_error_generator": float(0.5 * np.abs(generator_weights - true_weights).sum())}
    if len(true_weights) <= 4:   # a few modes: the weights themselves read at a glance
        result["weights_energy"] = [round(float(w), 4) for w in energy_weights]
        result["weights_generator"] = [round(float(w), 4) for w in generator_weights]
    return result
