"""A plain reference training loop, written the obvious way, for the benchmark to compare with.

The same networks (models/), the same data, the same seeded latents and the same objective as
models/training.py `train_step`, but none of its care: a full backward through both networks for
the generator's loss (the energy's gradients are computed and thrown away), the energy run twice
(real, then generated), stock Adam, a numpy batch drawn every iteration, both losses read back
every iteration. It stays plain on purpose; only the benchmark uses it.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from explorer.config.build import build_models


class ReferenceLoop:
    """One generator step, then one energy step on the same z (Kim & Bengio, the author's order)."""

    def __init__(self, options: dict, dataset, device: str = "cpu"):
        if options["sampler"] != "generator" or options["entropy"] != "batchnorm":
            raise ValueError("the reference loop is written for the default configuration: "
                             "generator sampler, batch-norm entropy")
        self.options, self.dataset, self.device = options, dataset, device
        self.energy, self.generator = build_models(options, dataset.dim, device)   # same seeded init
        betas = (0.5, 0.999)
        self.opt_energy = torch.optim.Adam(self.energy.parameters(), lr=options["lr_energy"], betas=betas)
        self.opt_generator = torch.optim.Adam(self.generator.parameters(), lr=options["lr_generator"], betas=betas)
        self.latent_rng = torch.Generator(device=device).manual_seed(options["seed"])
        self.data_rng = np.random.default_rng(options["seed"])
        self.losses: list[tuple[float, float]] = []

    def entropy(self) -> torch.Tensor:
        """The paper's estimate: sum over BN units of 0.5 log(2 pi e gamma^2)."""
        total = 0.0
        for module in self.generator.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                total = total + (0.5 * torch.log(2 * math.pi * math.e * module.weight ** 2 + 1e-12)).sum()
        return total

    def step(self, real: torch.Tensor | None = None) -> tuple[float, float]:
        batch = self.options["batch_size"]
        if real is None:
            real = torch.from_numpy(self.dataset.sample(batch, self.data_rng)).to(self.device)
        z = torch.rand(batch, self.options["latent_dim"], generator=self.latent_rng, device=self.device) * 2 - 1
        # generator: L_G = mean E(G(z)) - lambda H
        loss_generator = self.energy(self.generator(z)).mean() - self.options["entropy_weight"] * self.entropy()
        self.opt_generator.zero_grad()
        loss_generator.backward()
        self.opt_generator.step()
        # energy: L_E = mean E(x_data) - mean E(G(z)), the same z through the updated generator
        fake = self.generator(z).detach()
        loss_energy = self.energy(real).mean() - self.energy(fake).mean()
        self.opt_energy.zero_grad()
        loss_energy.backward()
        self.opt_energy.step()
        losses = (loss_generator.item(), loss_energy.item())
        self.losses.append(losses)
        return losses
