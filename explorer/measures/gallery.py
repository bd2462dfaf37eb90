"""Probes for what a generator draws: a sample gallery and latent interpolations, as numpy.

Latents are drawn from the pair's own prior, z ~ U(-1, 1)^d, with a seed, so a gallery can be
redrawn, and two of its samples can be joined by an interpolation through their latents.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.errors import UserInputError
from explorer.measures.evaluation import energy_fn
from explorer.seeds import GALLERY_REAL_OFFSET
from models import DeepEnergy, Generator

INTERPOLATIONS = ("linear", "spherical")
MAX_GALLERY = 400
MAX_PATH_STEPS = 200


@dataclass(frozen=True)
class Gallery:
    samples: np.ndarray          # (N, d) generated samples, in gallery order
    energies: np.ndarray         # (N,)
    latents: np.ndarray | None   # (N, latent_dim); None for the Langevin baseline (no generator)
    real: np.ndarray             # (M, d) real data, for comparison
    real_energies: np.ndarray    # (M,)
    seed: int
    sorted: bool = False         # both sets lowest energy first (else in the order drawn)


@dataclass(frozen=True)
class Path:
    latents: np.ndarray          # (T, latent_dim)
    samples: np.ndarray          # (T, d) = G(latents)
    energies: np.ndarray         # (T,)
    method: str


def _generate(generator: Generator, latents: np.ndarray) -> np.ndarray:
    """G(z) in eval mode (batch-norm running statistics), as the pair samples after training."""
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            return generator(torch.as_tensor(latents, dtype=torch.float32, device=device)).cpu().numpy()
    finally:
        generator.train(was_training)


def draw_latents(latent_dim: int, n: int, seed: int) -> np.ndarray:
    """n latents z ~ U(-1, 1)^latent_dim from their own seeded stream."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, latent_dim)).astype(np.float32)


def check_gallery_size(n: int) -> None:
    """Checked before anything is drawn: the Langevin baseline runs its chains for n samples first."""
    if not 1 <= n <= MAX_GALLERY:
        raise UserInputError(f"gallery size must be between 1 and {MAX_GALLERY}, got {n}")


def make_gallery(energy: DeepEnergy, generator: Generator | None, real: np.ndarray, n: int, seed: int,
                 sort_by_energy: bool = False, samples: np.ndarray | None = None) -> Gallery:
    """n generated samples with their energies (lowest first when sorted) beside n real ones.
    `samples`: given samples (the Langevin baseline's), when there is no generator to draw from."""
    check_gallery_size(n)
    latents = None
    if generator is not None:
        latents = draw_latents(generator.config.latent_dim, n, seed)
        samples = _generate(generator, latents)
    energies = energy_fn(energy)
    fake_energies = energies(samples).astype(np.float32)
    rng = np.random.default_rng(seed + GALLERY_REAL_OFFSET)
    real = real[rng.choice(len(real), size=min(n, len(real)), replace=False)]
    real_energies = energies(real).astype(np.float32)
    if sort_by_energy:
        order = np.argsort(fake_energies, kind="stable")
        samples, fake_energies = samples[order], fake_energies[order]
        latents = latents[order] if latents is not None else None
        real_order = np.argsort(real_energies, kind="stable")
        real, real_energies = real[real_order], real_energies[real_order]
    return Gallery(samples.astype(np.float32), fake_energies, latents, real.astype(np.float32), real_energies, seed,
                   sort_by_energy)


def latent_path(z0: np.ndarray, z1: np.ndarray, steps: int, method: str = "linear") -> np.ndarray:
    """`steps` latents from z0 to z1 (both included).

    linear:    z(t) = (1 - t) z0 + t z1
    spherical: z(t) = sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1,  cos W = z0.z1 / (|z0| |z1|)
               (slerp: keeps the norm along the arc when |z0| = |z1|; falls back to linear when
               z0 and z1 are parallel). Under a uniform prior on the cube, either path may leave
               the region of typical latents; linear stays inside the cube, slerp need not.
    """
    if method not in INTERPOLATIONS:
        raise UserInputError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}; got {method!r}")
    if not 2 <= steps <= MAX_PATH_STEPS:
        raise UserInputError(f"interpolation steps must be between 2 and {MAX_PATH_STEPS}, got {steps}")
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "spherical":
        norms = np.linalg.norm(z0) * np.linalg.norm(z1)
        cos = np.clip(np.dot(z0, z1) / norms, -1.0, 1.0) if norms > 0 else 1.0
        angle = np.arccos(cos)
        if np.sin(angle) > 1e-6:
            return ((np.sin((1 - t) * angle) * z0 + np.sin(t * angle) * z1) / np.sin(angle)).astype(np.float32)
    return ((1 - t) * z0 + t * z1).astype(np.float32)


def interpolate(energy: DeepEnergy, generator: Generator, z0: np.ndarray, z1: np.ndarray, steps: int,
                method: str = "linear") -> Path:
    """G along a latent path, with the energy of every point on it."""
    latents = latent_path(z0, z1, steps, method)
    samples = _generate(generator, latents)
    return Path(latents, samples, energy_fn(energy)(samples).astype(np.float32), method)
