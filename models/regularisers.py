"""Regularisers of the energy, from the paper's descendants; every one is off by default.

With the paper's batch-norm entropy the energy keeps deepening its wells without bound: L_E only
asks that E be lower on the data than on the negatives, and nothing fixes E's offset or slope.
Each term here is added to L_E (models/training.py, energy_step) and pulls E back:

    magnitude  (IGEBM, Du & Mordatch 2019; JEM)   alpha * mean_i ( E(x_i)^2 + E(x'_i)^2 )
    gradient   (MEG, Kumar et al. 2019)           gamma * mean_i |grad_x E(x_i)|^2      on the data x_i
    decay      (the first author's scripts)       lambda * sum_W sum_jk W_jk^2   Linear/Conv weights W
    spectral norm (Miyato et al. 2018)            each such W used as W / s_max(W)

x_i the data batch, x'_i the negatives (generator samples or Langevin chains). The magnitude term
pins E's free offset near 0 and so bounds how far the data's energies can fall below the
negatives'; the gradient term flattens E at the data, where deep wells are steepest; spectral
norm bounds the slope of the experts' sum (tanh and SiLU are about 1-Lipschitz, so each feature
layer is too, and |grad_f sum_i softplus(w_i . f + c_i)| <= |sigmoid(...)| <= sqrt(experts)).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

NORMED_LAYERS = (nn.Linear, nn.Conv2d)   # the layers whose weights decay and spectral norm act on
# TrainConfig's weights of the loss terms below (0: off), as named in TrainConfig and the options table
REGULARISERS = ("energy_magnitude", "gradient_penalty", "energy_weight_decay")


def magnitude_penalty(energy_real: torch.Tensor, energy_negative: torch.Tensor) -> torch.Tensor:
    """mean_i E(x_i)^2 + mean_i E(x'_i)^2, from the two halves' per-point energies (as IGEBM's code:
    the mean of each half, so unequal batches weigh each half alike)."""
    return energy_real.square().mean() + energy_negative.square().mean()


def gradient_penalty(energy_real: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """mean_i |grad_x E(x_i)|^2 at the data, differentiable in the energy's parameters.

    `real` must require grad and `energy_real` be E of it. grad of sum_i E(x_i) gives every
    grad_x E(x_i) at once because E(x_i) depends on x_i alone (the energy has no batch statistics);
    create_graph keeps the graph so that the penalty's own gradient reaches the parameters."""
    (grad,) = torch.autograd.grad(energy_real.sum(), real, create_graph=True)
    return grad.square().sum(dim=1).mean()


def decayed_weights(energy: nn.Module) -> list[torch.Tensor]:
    """The trained weight tensors of the energy's Linear and Conv layers (the raw one under spectral norm).

    Not the biases (they shift units, not E's slope; the usual practice), nor the prior's sigma and
    b: the prior keeps exp(-E) normalisable, and decay would pull sigma towards exp(0) = 1 (a prior
    narrower than its wide start: models/energy.py init_sigma) and b towards a mode at the origin.
    Under spectral norm E sees W / s_max(W), which is blind to W's scale: decay then only shrinks
    the raw W (and so raises its effective step size)."""
    weights = []
    for layer in energy.modules():
        if isinstance(layer, NORMED_LAYERS):
            parametrized = parametrize.is_parametrized(layer, "weight")
            weights.append(layer.parametrizations.weight.original if parametrized else layer.weight)
    return weights


def weight_decay(energy: nn.Module) -> torch.Tensor:
    """sum over decayed_weights of sum W^2 (the L2 penalty without its lambda)."""
    return sum(w.square().sum() for w in decayed_weights(energy))


# ----------------------------------------------------------------------------- spectral norm

def add_spectral_norm(*modules: nn.Module) -> None:
    """torch's spectral_norm on every Linear and Conv layer inside `modules`. A conv weight is
    normalised as torch does it, reshaped to (out, in * k * k): a bound on the slope, not the
    convolution's exact operator norm.

    Registering one draws its power iteration's start vectors from torch's global stream: forked
    here, so every weight drawn after it (the rest of the energy, the generator) is the same as
    without spectral norm, and a seed means the same initial networks either way."""
    with torch.random.fork_rng(devices=[]):
        for layer in [m for module in modules for m in module.modules() if isinstance(m, NORMED_LAYERS)]:
            spectral_norm(layer)


def spectral_norms(module: nn.Module) -> list[nn.Module]:
    """The spectral-norm parametrizations inside `module` (torch's _SpectralNorm modules)."""
    return [layer.parametrizations.weight[0] for layer in module.modules()
            if parametrize.is_parametrized(layer, "weight")]


def freeze_power_iteration(module: nn.Module) -> None:
    """Keep every spectral norm in eval mode: it then divides by s = u.W v with the stored u, v.

    torch runs a power iteration at every forward in training mode; the energy is also called
    by probes, evaluations (on several threads at once) and the generator step, so a run would
    then depend on how often it is looked at. Instead energy_step runs exactly one per update."""
    for norm in spectral_norms(module):
        norm.eval()


@torch.no_grad()
def power_iteration(module: nn.Module) -> None:
    """One power-iteration step of every spectral norm in `module`: u, v move towards W's top
    singular vectors (torch's own step: its forward in training mode, result discarded)."""
    for layer in module.modules():
        if parametrize.is_parametrized(layer, "weight"):
            weight = layer.parametrizations.weight
            norm = weight[0]
            norm.train()
            try:
                norm(weight.original)
            finally:
                norm.eval()


def uses_spectral_norm(module: nn.Module) -> bool:
    return bool(spectral_norms(module))
