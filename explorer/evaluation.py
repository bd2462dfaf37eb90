"""Every number EnergyLab reports about a trained pair, computed in one place.

Used by `python -m explorer.evaluate`, by `explorer.train` (metrics.json) and by a live run's
metric history, so the command line and the app never disagree.
"""
from __future__ import annotations

import numpy as np
import torch

from models import DeepEnergy, Generator, langevin_chain

from . import metrics
from .datasets import Dataset

LANGEVIN_EVAL_STEPS = 500   # long-run chains from uniform noise, for a Langevin-trained energy
QUADRATURE_RESOLUTION = 400  # cells per side of the grid that normalises the energy in 2-D


def energy_fn(energy: DeepEnergy):
    """numpy (M, d) -> numpy (M,) energies, without gradients, on the model's device."""
    device = next(energy.parameters()).device

    def evaluate(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return energy(torch.as_tensor(points, dtype=torch.float32, device=device)).double().cpu().numpy()
    return evaluate


def model_samples(energy: DeepEnergy, generator: Generator, options: dict, n: int, seed: int,
                  bounds=None) -> np.ndarray:
    """n samples of the trained model: G(z) for the paper's method; for the Langevin baseline,
    long-run chains (LANGEVIN_EVAL_STEPS steps) started from uniform noise over the data box."""
    device = next(energy.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    if options["sampler"] == "generator":
        return generator.sample(n, rng).cpu().numpy()
    low, high = (bounds[0], bounds[1]) if bounds else (-1.0, 1.0)
    start = low + (high - low) * torch.rand(n, energy.config.data_dim, generator=rng, device=device)
    was_training = energy.training
    energy.eval()
    try:
        x = langevin_chain(energy, start, LANGEVIN_EVAL_STEPS, options["langevin_step_size"], rng)
    finally:
        energy.train(was_training)
    return x.cpu().numpy()


def evaluate_pair(energy: DeepEnergy, generator: Generator, options: dict, dataset: Dataset | None,
                  *, samples: int = 2500, seed: int = 0, heldout: np.ndarray | None = None,
                  bounds=None, resolution: int = QUADRATURE_RESOLUTION) -> dict:
    """The metrics of DESIGN.md that apply to this pair and data.

    `heldout`: held-out points (already standardised like the training data); otherwise fresh
    draws from a known mixture. `bounds`: the box for quadrature (defaults to the dataset's).
    """
    fake = model_samples(energy, generator, options, samples, seed, bounds or (dataset and dataset.bounds))
    energies = energy_fn(energy)
    result: dict = {"samples": samples, "seed": seed, "energy_fake_mean": float(energies(fake).mean())}
    if not np.isfinite(fake).all():
        result["warning"] = "the model produced NaN or infinite samples"
        return result
    rng = np.random.default_rng(seed + 1)  # held-out data: a stream apart from the model's
    real = None
    if heldout is not None:
        real = heldout
    elif dataset is not None and dataset.points is None:
        real = dataset.sample(samples, rng)
    elif dataset is not None:
        real = dataset.points
    if real is not None:
        result["energy_real_mean"] = float(energies(real).mean())

    if energy.config.data_dim == 2:
        box = bounds or dataset.bounds
        if dataset is not None and dataset.mixture is not None:
            result.update(metrics.mode_coverage(fake, dataset.mixture.centers, dataset.mixture.std))
        quad = metrics.grid_log_partition(energies, box, resolution=resolution)
        # normalise with the box and the ring around it, so mass outside the data box is not lost
        result["log_z"], result["mass_outside"] = float(quad["log_z_total"]), float(quad["mass_outside"])
        if real is not None:
            result["nll"] = metrics.nll(energies(real), quad["log_z_total"])
        if dataset is not None and dataset.mixture is not None and heldout is None:
            gx, gy = np.meshgrid(quad["xs"], quad["ys"])
            grid_points = np.stack([gx.ravel(), gy.ravel()], axis=1)
            log_p_true = dataset.mixture.log_density(grid_points).reshape(quad["energy"].shape)
            result.update(metrics.grid_divergences(log_p_true, -quad["energy"], quad["cell_area"]))
    elif dataset is not None and dataset.labels is not None:
        report = metrics.DigitsClassifier().class_report(fake)
        result.update({k: report[k] for k in ("classes_covered", "class_kl_uniform", "class_counts")})
    if real is not None:
        noise_box = bounds or (dataset.bounds if dataset else None) or (-1.0, 1.0, -1.0, 1.0)
        noise = rng.uniform(noise_box[0], noise_box[1], size=(samples, energy.config.data_dim)).astype(np.float32)
        result["energy_overlap_real_fake"] = metrics.histogram_overlap(energies(real), energies(fake))
        result["energy_noise_mean"] = float(energies(noise).mean())
    return result
