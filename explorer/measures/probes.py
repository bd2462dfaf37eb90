"""Probes: turn a generator/energy pair into the plain numpy data one frame of the app shows.

Nothing here draws; explorer/figures/frame.py does. A `Frame` is frozen numpy, safe to hand to another
thread while training goes on. The expensive read-backs (the energy on a grid, its gradient,
the latent grid) happen only for frames that are shown, at a coarse resolution while training
and a fine one when the run is still.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.measures import metrics
from explorer.measures.evaluation import energy_fn, uniform_in_box
from models import DeepEnergy, Generator

COARSE_RESOLUTION = 48     # landscape cells per side while training: cheap to compute and to send
FINE_RESOLUTION = 150      # when paused, stopped or loaded
ARROWS_PER_SIDE = 17       # -grad E field
LATENT_LINES = 11          # lines of the latent grid along each of z1 and z2
LATENT_POINTS = 41         # points along each line


@dataclass(frozen=True)
class Landscape:
    """The energy on a grid over the data box, normalised by quadrature (metrics.grid_log_partition)."""
    xs: np.ndarray          # (R,) cell centres
    ys: np.ndarray          # (R,)
    energy: np.ndarray      # (R, R) indexed [iy, ix]
    log_z: float            # log Z of the box plus the ring around it
    mass_outside: float     # share of exp(-E) outside the box

    @property
    def log_density(self) -> np.ndarray:
        """log p_E(x) = -E(x) - log Z."""
        return -self.energy - self.log_z


@dataclass(frozen=True)
class Frame:
    """Everything one frame of the app draws, as numpy."""
    step: int
    total_steps: int
    dim: int
    real: np.ndarray                      # (N, d) fixed probe of real data
    fake: np.ndarray                      # (N, d) samples of the fixed probe latents
    energy_real: np.ndarray               # (N,)
    energy_fake: np.ndarray               # (N,)
    energy_noise: np.ndarray              # (N,) uniform noise over the data box
    history: dict                         # metric -> (steps, values)
    bounds: tuple | None                  # (xmin, xmax, ymin, ymax) in 2-D
    landscape: Landscape | None = None    # 2-D only
    arrows: np.ndarray | None = None      # (A, 4): x, y, -dE/dx, -dE/dy
    latent_grid: np.ndarray | None = None  # (2 * LATENT_LINES, LATENT_POINTS, 2) images of latent lines
    info: dict = field(default_factory=dict)  # steps_per_second, device, paused, warning, sampler, ...


def landscape(energy: DeepEnergy, bounds, resolution: int) -> Landscape:
    quad = metrics.grid_log_partition(energy_fn(energy), bounds, resolution=resolution)
    return Landscape(xs=quad["xs"].astype(np.float32), ys=quad["ys"].astype(np.float32),
                     energy=quad["energy"].astype(np.float32), log_z=float(quad["log_z_total"]),
                     mass_outside=float(quad["mass_outside"]))


def negative_energy_gradient(energy: DeepEnergy, bounds, per_side: int = ARROWS_PER_SIDE) -> np.ndarray:
    """-grad_x E(x) on a regular grid: the direction Langevin dynamics drifts (and the generator is
    pushed). Rows: x, y, -dE/dx, -dE/dy."""
    xmin, xmax, ymin, ymax = bounds
    device = next(energy.parameters()).device
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, per_side + 2)[1:-1], np.linspace(ymin, ymax, per_side + 2)[1:-1])
    points = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32, device=device)
    points.requires_grad_(True)
    (gradient,) = torch.autograd.grad(energy(points).sum(), points)
    return np.concatenate([points.detach().cpu().numpy(), -gradient.cpu().numpy()], axis=1)


def latent_grid_image(generator: Generator, lines: int = LATENT_LINES, points: int = LATENT_POINTS) -> np.ndarray:
    """Where G sends a regular grid of the latent square [-1, 1]^2 spanned by z1 and z2, the other
    latent coordinates held at 0 (the centre of U(-1, 1)). Returns (2 * lines, points, 2):
    first the lines of constant z1, then those of constant z2."""
    latent_dim = generator.config.latent_dim
    device = next(generator.parameters()).device
    fixed = torch.linspace(-1, 1, lines)
    along = torch.linspace(-1, 1, points)
    z = torch.zeros(2, lines, points, latent_dim)
    z[0, :, :, 0] = fixed[:, None]
    if latent_dim > 1:
        z[0, :, :, 1] = along[None, :]
        z[1, :, :, 1] = fixed[:, None]
    z[1, :, :, 0] = along[None, :]
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            x = generator(z.reshape(-1, latent_dim).to(device))
    finally:
        generator.train(was_training)
    return x.cpu().numpy().reshape(2 * lines, points, -1)


def make_frame(*, step: int, total_steps: int, energy: DeepEnergy, generator: Generator | None,
               real: np.ndarray, fake: np.ndarray, history: dict, bounds, fine: bool,
               noise_seed: int, arrows: bool = True, latent: bool = True, info: dict | None = None) -> Frame:
    """A frame of a pair: energies of the probes, and in 2-D the landscape, -grad E and the latent grid."""
    energies = energy_fn(energy)
    dim = real.shape[1]
    noise = uniform_in_box(len(real), dim, bounds, torch.Generator().manual_seed(noise_seed)).numpy()
    frame = dict(step=step, total_steps=total_steps, dim=dim, real=real.astype(np.float32),
                 fake=np.asarray(fake, dtype=np.float32),
                 energy_real=energies(real).astype(np.float32), energy_fake=energies(fake).astype(np.float32),
                 energy_noise=energies(noise).astype(np.float32), history=history,
                 bounds=tuple(bounds) if bounds is not None else None, info=dict(info or {}))
    if dim == 2 and bounds is not None:
        frame["landscape"] = landscape(energy, bounds, FINE_RESOLUTION if fine else COARSE_RESOLUTION)
        if arrows:
            frame["arrows"] = negative_energy_gradient(energy, bounds)
        if latent and generator is not None:
            frame["latent_grid"] = latent_grid_image(generator)
    return Frame(**frame)
