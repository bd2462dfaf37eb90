"""The directed generator x = G(z), z ~ U(-1, 1)^d, trained to sample from p_E.

Every hidden layer is Linear -> BatchNorm -> ReLU, as in the paper: the batch-norm scales gamma
are what the paper's entropy estimate is made of (see models/entropy.py).

With `noise` (VERA, Grathwohl et al. 2021; models/entropy_vera.py) the generator is a latent-
variable model with a density: in the network's units (x / unit)
    x / unit = g(z) + sigma * eps,   eps ~ N(0, I),   sigma = SIGMA_FLOOR + exp(log_sigma)
sigma learned per output dimension through its log, never below SIGMA_FLOOR. `forward(z)` is
the mean map g(z) (what the latent grid and interpolations draw); `sample` adds the noise, so
samples come from the model whose entropy is maximised.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .energy import check_centre, check_depth, check_positive_ints, check_unit, frame_dict, into_frame


@dataclass
class GeneratorConfig:
    data_dim: int = 2        # 2 for toy points, 64 for 8 x 8 digits
    latent_dim: int = 4      # z in U(-1, 1)^latent_dim (public 2-D versions use 4)
    hidden: int = 128        # width of each hidden layer
    depth: int = 2           # number of Linear-BN-ReLU layers
    output: str = "linear"   # "linear" for points, "tanh" for images in [-1, 1]
    unit: float = 1.0        # x = centre + unit * net(z): the energy's change of frame, undone (linear output only)
    centre: tuple[float, ...] | None = None   # data_dim numbers; None: the origin
    noise: bool = False      # VERA's learned output noise: net(z) + sigma * eps before the frame (estimator "vera")

    def __post_init__(self):
        check_positive_ints(self, "data_dim", "latent_dim", "hidden", "depth")
        check_depth(self)
        check_unit(self)
        check_centre(self)
        if not isinstance(self.noise, bool):
            raise ValueError(f"noise must be true or false, got {self.noise!r}")
        if self.output not in ("linear", "tanh"):
            raise ValueError(f"output must be 'linear' or 'tanh', got {self.output!r}")
        if self.output == "tanh" and (self.unit != 1.0 or self.centre is not None):
            raise ValueError("unit must be 1 and centre None for a tanh output (images in [-1, 1])")

    def to_dict(self) -> dict:
        values = frame_dict(self)
        if not self.noise:   # written only when on: a pair without it keeps the config.json it had
            del values["noise"]
        return values


SIGMA_FLOOR = 0.01   # VERA's floor on the output noise, in the network's units (x / unit)
SIGMA_INIT = 0.1     # the noise a fresh noisy generator starts with, in the same units


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.latent_dim
        for _ in range(config.depth):
            layers += [nn.Linear(width, config.hidden), nn.BatchNorm1d(config.hidden), nn.ReLU()]
            width = config.hidden
        layers.append(nn.Linear(width, config.data_dim))
        if config.output == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        if config.centre is not None:   # not persistent: the frame is in config.json, not among the weights
            self.register_buffer("centre", torch.tensor(config.centre, dtype=torch.float32), persistent=False)
        if config.noise:   # made after the net, and drawing nothing: the net's initial weights are as without
            self.log_sigma = nn.Parameter(torch.full((config.data_dim,), math.log(SIGMA_INIT - SIGMA_FLOOR)))

    def to_network(self, x: torch.Tensor) -> torch.Tensor:
        """(x - centre) / unit: a sample in data units back into the network's frame (forward, undone)."""
        return into_frame(self, x)

    def sigma(self) -> torch.Tensor:
        """The output noise's standard deviation per dimension, in the network's units (noise only)."""
        return SIGMA_FLOOR + self.log_sigma.exp()

    def sample_noise(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """eps ~ N(0, I) of the output's shape, drawn from the given seeded generator."""
        device = rng.device if rng is not None else next(self.parameters()).device
        return torch.randn(n, self.config.data_dim, generator=rng, device=device)

    def sample_latent(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """z ~ U(-1, 1)^latent_dim, drawn from the given seeded generator."""
        device = rng.device if rng is not None else next(self.parameters()).device
        z = torch.rand(n, self.config.latent_dim, generator=rng, device=device)
        return 2.0 * z - 1.0

    def forward(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """centre + unit * g(z), or with `noise` eps (a noisy generator only) centre + unit * (g(z) + sigma * eps):
        the network's frame -> data units (the energy's to_network, undone)."""
        x = self.net(z)
        if noise is not None:
            x = x + self.sigma() * noise
        if self.config.unit != 1.0:
            x = x * self.config.unit
        if self.config.centre is not None:
            x = x + self.centre
        return x

    def mean_map_at(self, reference: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """z' -> g(z') in the network's units (no unit, no noise), with every batch norm normalising
        by the statistics it uses for the batch `reference` now: the batch's own in training mode,
        the running ones in evaluation mode. So g(z') is the very function that made G(reference),
        whatever other latents are passed (VERA's posterior samples). Updates no running statistics;
        the statistics are fixed numbers (no gradient flows into them)."""
        statistics = []
        with torch.no_grad():
            h = reference
            for layer in self.net:
                if isinstance(layer, nn.BatchNorm1d):
                    if self.training:   # batch norm's training mode normalises with the biased variance
                        statistics.append((h.mean(dim=0), h.var(dim=0, unbiased=False)))
                    else:
                        statistics.append((layer.running_mean, layer.running_var))
                    h = self._normalise(layer, h, *statistics[-1])
                else:
                    h = layer(h)

        def mean_map(z: torch.Tensor) -> torch.Tensor:
            h, found = z, iter(statistics)
            for layer in self.net:
                h = self._normalise(layer, h, *next(found)) if isinstance(layer, nn.BatchNorm1d) else layer(h)
            return h
        return mean_map

    @staticmethod
    def _normalise(bn: nn.BatchNorm1d, h: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(h, mean, var, bn.weight, bn.bias, training=False, momentum=0.0, eps=bn.eps)

    def batchnorm_layers(self) -> list[nn.BatchNorm1d]:
        return [m for m in self.net if isinstance(m, nn.BatchNorm1d)]

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """n samples in evaluation mode (batch-norm running statistics), without gradients; a noisy
        generator's include its noise (drawn after the latents, from the same generator)."""
        was_training = self.training
        self.eval()
        try:
            z = self.sample_latent(n, rng)
            return self(z, self.sample_noise(n, rng) if self.config.noise else None)
        finally:
            self.train(was_training)
