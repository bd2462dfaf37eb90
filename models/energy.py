"""The deep energy function of Kim & Bengio (2016), a deep product of experts.

    E(x) = x.x / sigma^2 - b.x - sum_i softplus(w_i . f(x) + c_i)        (paper, eq. 4)

`f` is a deep feature extractor whose last layer is bounded by tanh, as in the first author's
code; each softplus term is one "expert". The quadratic and linear terms are a Gaussian prior
that keeps exp(-E) normalisable; images in [-1, 1] may drop it (`use_prior=False`).
`centre` and `unit` are a fixed change of frame, E(x) = E'((x - centre) / unit), for data far from
the origin or from the unit scale (explorer's `standardise` sets them from the data: its mean and
pooled standard deviation); the prior term then lives in that frame. Everything outside the
network (log Z by quadrature, NLL, Langevin, figures) calls E(x) in data units, unaware of it.
The density the model defines is p_E(x) = exp(-E(x)) / Z.
`spectral_norm=True` uses each Linear/Conv weight W as W / s_max(W) (models/regularisers.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from . import regularisers


@dataclass
class EnergyConfig:
    data_dim: int = 2            # 2 for toy points, 64 for 8 x 8 digits
    hidden: int = 128            # width of each feature layer
    depth: int = 2               # number of feature layers (2 -> 128 -> 128, as public 2-D versions)
    experts: int = 128           # number of softplus experts over the features
    extractor: str = "mlp"       # "mlp", or "conv" for 8 x 8 images
    use_prior: bool = True       # keep the quadratic/linear Gaussian prior term
    init_sigma: float = 3.0      # initial prior scale; wide so the prior starts nearly flat on the data
    unit: float = 1.0            # the network works on x / unit (data spread over +-4: unit ~3 keeps it near +-1)
    spectral_norm: bool = False  # every Linear/Conv weight divided by its top singular value
    centre: tuple[float, ...] | None = None   # and on x - centre first (data_dim numbers); None: the origin
    # the Langevin step (data units) that suits this energy's wells, adapted in training towards a
    # Metropolis acceptance rate (models/langevin.py adapted_step); None: the experiment's fixed step
    langevin_step: float | None = None

    def __post_init__(self):
        check_positive_ints(self, "data_dim", "hidden", "depth", "experts")
        check_depth(self)
        if self.extractor not in ("mlp", "conv"):
            raise ValueError(f"extractor must be 'mlp' or 'conv', got {self.extractor!r}")
        if not isinstance(self.use_prior, bool):
            raise ValueError(f"use_prior must be true or false, got {self.use_prior!r}")
        if not isinstance(self.spectral_norm, bool):
            raise ValueError(f"spectral_norm must be true or false, got {self.spectral_norm!r}")
        if not (isinstance(self.init_sigma, (int, float)) and 0 < self.init_sigma < 1e6):
            raise ValueError(f"init_sigma must be a positive number, got {self.init_sigma!r}")
        check_unit(self)
        check_centre(self)
        if self.langevin_step is not None and not (isinstance(self.langevin_step, (int, float))
                                                   and 0 < self.langevin_step < 1e6):
            raise ValueError(f"langevin_step must be a positive number, got {self.langevin_step!r}")

    def to_dict(self) -> dict:
        # spectral_norm written only when on: a pair without it keeps the config.json it had
        # before the setting existed, readable by older EnergyLab too
        values = frame_dict(self)
        if not self.spectral_norm:
            del values["spectral_norm"]
        if self.langevin_step is None:   # likewise: written only when adapted
            del values["langevin_step"]
        return values


MAX_WIDTH = 4096  # a bound on any layer size, so a config cannot ask for gigabytes
MAX_DEPTH = 16    # and on the number of layers (the app offers up to 6)


def check_positive_ints(config, *names: str) -> None:
    """Each named field is an int from 1 to MAX_WIDTH (checkpoint configs come from users)."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WIDTH:
            raise ValueError(f"{name} must be a whole number from 1 to {MAX_WIDTH}, got {value!r}")


def check_unit(config) -> None:
    if isinstance(config.unit, bool) or not (isinstance(config.unit, (int, float)) and 1e-3 <= config.unit <= 1e3):
        raise ValueError(f"unit must be a number from 0.001 to 1000, got {config.unit!r}")


MAX_CENTRE = 1e6   # |centre| bound: a config from a stranger cannot hold inf or absurd offsets


def check_centre(config) -> None:
    """None, or data_dim finite numbers (a JSON list or a tuple), stored as a tuple of floats."""
    centre = config.centre
    if centre is None:
        return
    if (not isinstance(centre, (list, tuple)) or len(centre) != config.data_dim
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool)
                       and abs(c) <= MAX_CENTRE for c in centre)):   # NaN fails <=; a huge int never reaches float()
        raise ValueError(f"centre must be None or {config.data_dim} finite numbers of size at most "
                         f"{MAX_CENTRE:g}, got {str(centre)[:80]}")
    config.centre = tuple(float(c) for c in centre)


def frame_dict(config) -> dict:
    """The config as a dict for config.json; `centre` left out when None (the origin), so a pair in
    data units writes the same config.json as before the field existed."""
    values = asdict(config)
    if values.get("centre") is None:
        values.pop("centre", None)
    else:
        values["centre"] = list(values["centre"])
    return values


def into_frame(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(x - centre) / unit for a network whose config has `centre` (held as its `centre` buffer) and
    `unit`: data units -> its frame. The energy's input and the generator's output, undone."""
    if network.config.centre is not None:
        x = x - network.centre
    if network.config.unit != 1.0:
        x = x / network.config.unit
    return x


def check_depth(config) -> None:
    if config.depth > MAX_DEPTH:
        raise ValueError(f"depth must be at most {MAX_DEPTH}, got {config.depth}")


def _mlp_features(config: EnergyConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = config.data_dim
    for i in range(config.depth):
        layers.append(nn.Linear(width, config.hidden))
        # hidden layers use a smooth nonlinearity so grad_x E (Langevin, arrows) is well defined;
        # the last layer is tanh-bounded as in the author's code
        layers.append(nn.Tanh() if i == config.depth - 1 else nn.SiLU())
        width = config.hidden
    return nn.Sequential(*layers)


def _conv_features(config: EnergyConfig) -> nn.Sequential:
    side = int(math.isqrt(config.data_dim))
    if side * side != config.data_dim:
        raise ValueError(f"conv extractor needs square images, data_dim={config.data_dim}")
    channels = max(8, config.hidden // 4)
    return nn.Sequential(
        nn.Unflatten(1, (1, side, side)),
        nn.Conv2d(1, channels, 3, padding=1), nn.SiLU(),                 # 8x8
        nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1), nn.SiLU(),  # 4x4
        nn.Flatten(),
        nn.Linear(2 * channels * (side // 2) ** 2, config.hidden), nn.Tanh(),
    )


class DeepEnergy(nn.Module):
    """E(x) for a batch x of shape (N, data_dim); returns (N,) energies (lower = more likely)."""

    def __init__(self, config: EnergyConfig):
        super().__init__()
        self.config = config
        self.features = _conv_features(config) if config.extractor == "conv" else _mlp_features(config)
        self.experts = nn.Linear(config.hidden, config.experts)  # rows w_i, biases c_i
        if config.use_prior:
            # sigma is learned through its log so it stays positive
            self.log_sigma = nn.Parameter(torch.tensor(math.log(config.init_sigma)))
            self.prior_bias = nn.Parameter(torch.zeros(config.data_dim))  # b
        if config.centre is not None:   # not persistent: the frame is in config.json, not among the weights
            self.register_buffer("centre", torch.tensor(config.centre, dtype=torch.float32), persistent=False)
        if config.spectral_norm:   # the feature extractor's and the experts' layers, not the prior
            regularisers.add_spectral_norm(self.features, self.experts)
            regularisers.freeze_power_iteration(self)

    def train(self, mode: bool = True) -> DeepEnergy:
        # spectral norms stay in eval mode whatever the energy's mode: energy_step alone moves
        # their power iteration (models/regularisers.py, freeze_power_iteration)
        super().train(mode)
        regularisers.freeze_power_iteration(self)
        return self

    def to_network(self, x: torch.Tensor) -> torch.Tensor:
        """(x - centre) / unit: data units -> the network's frame, so that data spread over +-4 (or
        centred far from the origin) reaches the network near +-1, where its initial weights put
        their kinks (centre None and unit 1: x itself, unchanged)."""
        return into_frame(self, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # E(x) = E'((x - centre) / unit): a fixed change of frame
        x = self.to_network(x)
        # sum_i softplus(w_i . f(x) + c_i)
        expert_sum = F.softplus(self.experts(self.features(x))).sum(dim=1)
        if not self.config.use_prior:
            return -expert_sum
        # x.x / sigma^2 - b.x
        prior = (x * x).sum(dim=1) * torch.exp(-2.0 * self.log_sigma) - x @ self.prior_bias
        return prior - expert_sum
