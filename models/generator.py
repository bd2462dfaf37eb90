"""The directed generator x = G(z), z ~ U(-1, 1)^d, trained to sample from p_E.

Every hidden layer is Linear -> BatchNorm -> ReLU, as in the paper: the batch-norm scales gamma
are what the paper's entropy estimate is made of (see models/entropy.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .energy import check_centre, check_depth, check_positive_ints, check_unit, frame_dict


@dataclass
class GeneratorConfig:
    data_dim: int = 2        # 2 for toy points, 64 for 8 x 8 digits
    latent_dim: int = 4      # z in U(-1, 1)^latent_dim (public 2-D versions use 4)
    hidden: int = 128        # width of each hidden layer
    depth: int = 2           # number of Linear-BN-ReLU layers
    output: str = "linear"   # "linear" for points, "tanh" for images in [-1, 1]
    unit: float = 1.0        # x = centre + unit * net(z): the energy's change of frame, undone (linear output only)
    centre: tuple[float, ...] | None = None   # data_dim numbers; None: the origin

    def __post_init__(self):
        check_positive_ints(self, "data_dim", "latent_dim", "hidden", "depth")
        check_depth(self)
        check_unit(self)
        check_centre(self)
        if self.output not in ("linear", "tanh"):
            raise ValueError(f"output must be 'linear' or 'tanh', got {self.output!r}")
        if self.output == "tanh" and (self.unit != 1.0 or self.centre is not None):
            raise ValueError("unit must be 1 and centre None for a tanh output (images in [-1, 1])")

    def to_dict(self) -> dict:
        return frame_dict(self)


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

    def sample_latent(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """z ~ U(-1, 1)^latent_dim, drawn from the given seeded generator."""
        device = rng.device if rng is not None else next(self.parameters()).device
        z = torch.rand(n, self.config.latent_dim, generator=rng, device=device)
        return 2.0 * z - 1.0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # x = centre + unit * net(z): the network's frame -> data units (the energy's to_network, undone)
        x = self.net(z)
        if self.config.unit != 1.0:
            x = x * self.config.unit
        if self.config.centre is not None:
            x = x + self.centre
        return x

    def batchnorm_layers(self) -> list[nn.BatchNorm1d]:
        return [m for m in self.net if isinstance(m, nn.BatchNorm1d)]

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """n samples in evaluation mode (batch-norm running statistics), without gradients."""
        was_training = self.training
        self.eval()
        try:
            return self(self.sample_latent(n, rng))
        finally:
            self.train(was_training)
