"""The baseline the paper avoids: negative samples from short-run Langevin dynamics (SGLD).

Unadjusted Langevin dynamics with step size eps targets p_E(x) ∝ exp(-E(x)):
    x_{t+1} = x_t - (eps / 2) * grad_x E(x_t) + sqrt(eps) * noise,   noise ~ N(0, I).
Short chains mix poorly, so chains persist between training iterations in a buffer, and a small
fraction restarts from uniform noise each iteration (Du & Mordatch, 2019).

The same dynamics started from the generator's samples instead of noise is CoopNets' refinement
(Xie et al., "Cooperative learning of energy-based model and latent variable model via MCMC
teaching", 2018): a few steps move a sample that fell between two modes into one, at the cost of
`steps` energy gradients per sample (`refine`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .energy import DeepEnergy


@dataclass
class LangevinConfig:
    steps: int = 20              # Langevin steps per training iteration
    step_size: float = 1e-3      # eps; must be small against the curvature of E (about 1/std^2)
    metropolis: bool = False     # accept or reject each step (MALA), so a step too large for a well is refused
    buffer_size: int = 10000     # persistent chains kept between iterations
    reinit_fraction: float = 0.05  # chains restarted from uniform noise per draw
    init_low: float = -3.0       # uniform-noise box for (re)starting chains
    init_high: float = 3.0


def langevin_chain(energy: DeepEnergy, x: torch.Tensor, steps: int, step_size: float,
                   rng: torch.Generator | None = None, metropolis: bool = False) -> torch.Tensor:
    """Run `steps` Langevin updates from x; returns the final states (detached). `metropolis`:
    each update is a proposal, kept or refused by Metropolis-Hastings (mala_chain)."""
    if metropolis:
        return mala_chain(energy, x, steps, step_size, rng)
    noise_scale = step_size ** 0.5
    x = x.detach()
    for _ in range(steps):
        _, grad = energy_and_gradient(energy, x)
        noise = torch.randn(x.shape, generator=rng, device=x.device, dtype=x.dtype)
        # x <- x - (eps/2) grad E(x) + sqrt(eps) * noise
        x = x - 0.5 * step_size * grad + noise_scale * noise
    return x


def energy_and_gradient(energy: DeepEnergy, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E(x) (N,) and grad_x E(x) (N, d), detached."""
    x = x.detach().requires_grad_(True)
    energies = energy(x)
    (grad,) = torch.autograd.grad(energies.sum(), x)
    return energies.detach(), grad


def mala_chain(energy: DeepEnergy, x: torch.Tensor, steps: int, step_size: float,
               rng: torch.Generator | None = None) -> torch.Tensor:
    """mala_chain_with_rate's final states alone."""
    return mala_chain_with_rate(energy, x, steps, step_size, rng)[0]


def mala_chain_with_rate(energy: DeepEnergy, x: torch.Tensor, steps: int, step_size: float,
                         rng: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Metropolis-adjusted Langevin (Roberts & Tweedie, 1996): each Langevin update is a proposal
        x' = x - (eps / 2) grad E(x) + sqrt(eps) n,   q(x' | x) = N(x'; x - (eps / 2) grad E(x), eps I),
    accepted with probability min(1, exp(E(x) - E(x')) q(x | x') / q(x' | x)), per sample; p_E is
    then exactly stationary whatever eps. Without the test, a step larger than about 4 std^2 of a
    well (eps / (2 std^2) > 2) overshoots and throws the sample out of it, so the sharper a learned
    well, the fewer samples stay in it: the energy's negatives miss it and it deepens unchecked.
    A refused proposal leaves its sample where it was. One energy gradient more than the plain
    chain (at the start); one uniform draw per sample and step from `rng`. Returns the final states
    and the share of proposals accepted (a 0-dim tensor; nan for no steps)."""
    x = x.detach()
    energies, grad = energy_and_gradient(energy, x)
    accepted = torch.zeros((), device=x.device)
    for _ in range(steps):
        noise = torch.randn(x.shape, generator=rng, device=x.device, dtype=x.dtype)
        proposal = x - 0.5 * step_size * grad + step_size ** 0.5 * noise
        energies_new, grad_new = energy_and_gradient(energy, proposal)
        # log q(x' | x) = -|n|^2 / 2 and log q(x | x') = -|x - x' + (eps / 2) grad E(x')|^2 / (2 eps), + the same const
        back = x - proposal + 0.5 * step_size * grad_new
        log_ratio = (energies - energies_new) - (back * back).sum(dim=1) / (2.0 * step_size) \
            + 0.5 * (noise * noise).sum(dim=1)
        uniform = torch.rand(x.shape[0], generator=rng, device=x.device, dtype=x.dtype)
        accept = torch.log(uniform) < log_ratio   # NaN (a proposal off to infinity) compares False: refused
        accepted = accepted + accept.float().mean()
        x = torch.where(accept[:, None], proposal, x)
        energies = torch.where(accept, energies_new, energies)
        grad = torch.where(accept[:, None], grad_new, grad)
    return x, accepted / steps if steps else torch.full((), float("nan"))


def adapted_step(step_size: float, acceptance: float, target: float, gain: float = 0.1) -> float:
    """One Robbins-Monro step on log eps towards a target acceptance rate (adaptive MCMC: Atchade
    2006; Andrieu & Thoms 2008):
        log eps <- log eps + gain * (acceptance - target).
    A well sharper than the step refuses most proposals, and the step shrinks until about `target`
    of them pass; a step far inside a broad well is almost always accepted, and grows. For a
    Gaussian well of std s the fixed point is proportional to s^2 (MALA's optimal scaling), so the
    step follows the energy's own sharpness, in whatever units the data come. A nan acceptance
    (no steps) leaves the step as it was."""
    if math.isnan(acceptance):
        return step_size
    return step_size * math.exp(gain * (acceptance - target))


def refine(energy: DeepEnergy, x: torch.Tensor, steps: int, step_size: float,
           rng: torch.Generator | None = None, metropolis: bool = False) -> torch.Tensor:
    """Generator-initialised short-run Langevin (CoopNets): `steps` updates of
        x <- x - (eps / 2) grad_x E(x) + sqrt(eps) * noise,    x_0 = G(z),
    with eps = `step_size` in data units and the noise from `rng` (the caller's seeded stream, so a
    run stays deterministic). Returns the revised samples, detached; steps = 0 returns x as it is.
    Gradients are switched on here: a caller drawing samples under torch.no_grad() still refines.
    `metropolis`: each step accepted or refused (mala_chain)."""
    if steps == 0:
        return x
    with torch.enable_grad():
        return langevin_chain(energy, x, steps, step_size, rng, metropolis)


def refine_adapting(energy: DeepEnergy, x: torch.Tensor, steps: int, target: float,
                    rng: torch.Generator | None = None) -> torch.Tensor:
    """`refine` by MALA with the energy's own step (energy.config.langevin_step, data units: the
    experiment's step when the networks are built), which then takes one adapted_step towards the
    `target` acceptance rate of this chain's proposals."""
    if steps == 0:
        return x
    step_size = energy.config.langevin_step
    with torch.enable_grad():
        x, acceptance = mala_chain_with_rate(energy, x, steps, step_size, rng)
    energy.config.langevin_step = adapted_step(step_size, float(acceptance), target)
    return x


class PersistentSampler:
    """A buffer of persistent Langevin chains that hands out negative samples."""

    def __init__(self, config: LangevinConfig, data_dim: int, rng: torch.Generator, device="cpu"):
        self.config = config
        self.rng = rng
        self.buffer = self._uniform(config.buffer_size, data_dim, device)

    def _uniform(self, n: int, dim: int, device) -> torch.Tensor:
        low, high = self.config.init_low, self.config.init_high
        u = torch.rand(n, dim, generator=self.rng, device=self.rng.device)
        return (low + (high - low) * u).to(device)

    def sample(self, energy: DeepEnergy, n: int) -> torch.Tensor:
        """Draw n chains from the buffer, restart a few, advance them, write them back."""
        index = torch.randint(0, self.buffer.shape[0], (n,), generator=self.rng, device=self.rng.device)
        index = index.to(self.buffer.device)
        start = self.buffer[index]
        restart = torch.rand(n, generator=self.rng, device=self.rng.device).to(start.device)
        restart = restart < self.config.reinit_fraction
        start = torch.where(restart[:, None], self._uniform(n, start.shape[1], start.device), start)
        was_training = energy.training
        energy.eval()
        try:
            samples = langevin_chain(energy, start, self.config.steps, self.config.step_size, self.rng,
                                     self.config.metropolis)
        finally:
            energy.train(was_training)
        self.buffer[index] = samples
        return samples
