"""Estimators of the generator's entropy H(p_G), all behind one interface.

The generator minimises KL(p_G || p_E) = E_{x~p_G}[E(x)] - H(p_G) + log Z. The first term alone
pulls every sample into the deepest energy well (mode collapse); the entropy term pushes back.
H(p_G) of a deep generator is intractable, so it is estimated:

- "batchnorm" (the paper's, section 3.2): treat each batch-normalised unit as Gaussian with
  standard deviation gamma (its BN scale), so
      H ~= sum_{BN layers l} sum_{units j} 0.5 * log(2 * pi * e * gamma_lj^2).
  Only the gammas receive this gradient. It is a surrogate, not a bound: scaling gamma up and the
  next layer's weights down changes it without changing a single sample.
- "knn" (Kozachenko-Leonenko) on the batch of samples x_1..x_N in R^d, r_i the distance from x_i
  to its k-th nearest neighbour, V_d the volume of the unit d-ball:
      H ~= psi(N) - psi(k) + log V_d + (d / N) * sum_i log r_i.
  Consistent for a density, but biased on small batches and in high dimension.
- "pullaway" (EBGAN's pull-away term) on the energy's features s_i = f(x_i), x_i in the energy's
  own frame (x - centre) / unit, as E itself sees it (models/energy.py):
      PT = 1 / (N (N - 1)) * sum_{i != j} (s_i . s_j / (|s_i| |s_j|))^2,
  returned as -PT: a diversity bonus, not an entropy (its value is not in nats).
- "vera" (VERA, Grathwohl et al. 2021; models/entropy_vera.py): the generator gets learned output
  noise, x = G(z) + sigma * eps, which gives it a density q; the gradient of H(q) comes from the
  score grad_x log q(x), estimated by importance sampling of the posterior p(z | x):
      dH/dtheta = -E[grad_x log q(x) . dx/dtheta],  grad_x log q(x) = E_{p(z|x)}[(g(z) - x) / sigma^2].
  A real entropy gradient; its value is an importance-sampled estimate of H in nats.
- "mi" (MEG, Kumar et al. 2019; models/entropy_mi.py): H(G(z)) grows with the mutual information
  between z and x = G(z), estimated by a Jensen-Shannon (Deep InfoMax) critic T(z, x) trained
  alongside:  I_JS = -[mean softplus(-T(z, x)) + mean softplus(T(z~, x))],  z~ shuffled per
  coordinate. A bound on a divergence, from -2 log 2 to 0: not in nats.
- "none": 0, the mode-collapse setting.

batchnorm, knn, pullaway and none read one batch of samples (and the networks) alone
(entropy_estimate); vera needs the latents that made the batch and a generator with noise, mi
its critic: the training step calls them (models/training.py, entropy_term).
"""
from __future__ import annotations

import math

import torch

from .energy import DeepEnergy
from .generator import Generator

BATCH_ESTIMATORS = ("batchnorm", "knn", "pullaway", "none")   # what entropy_estimate computes from a batch
ESTIMATORS = BATCH_ESTIMATORS + ("vera", "mi")
NOISY_ESTIMATORS = ("vera",)   # those that need the generator's output noise (GeneratorConfig.noise)
LOG_2PI_E = math.log(2.0 * math.pi * math.e)   # a 1-D Gaussian of std s has entropy 0.5 * (LOG_2PI_E + log s^2)


def batchnorm_entropy(generator: Generator) -> torch.Tensor:
    """sum over BN layers and units of 0.5 * log(2 pi e gamma^2)."""
    total = torch.zeros((), device=next(generator.parameters()).device)
    for bn in generator.batchnorm_layers():
        # 0.5 * log(2 pi e gamma^2) = 0.5 * log(2 pi e) + log|gamma|; tiny floor keeps log finite
        total = total + (0.5 * LOG_2PI_E + 0.5 * torch.log(bn.weight.square() + 1e-12)).sum()
    return total


def kth_neighbour_distance(x: torch.Tensor, k: int, rows: int | None = None) -> torch.Tensor:
    """r_k(x_i): the distance from each of the N points x (N, d) to its k-th nearest other point,
    differentiable in x. `rows`: points measured a block, so memory is rows x N rather than N x N."""
    n = x.shape[0]
    # centred, and without the |x|^2 + |y|^2 - 2 x.y shortcut: in float32 that shortcut loses the
    # distances of a tight cluster away from the origin, exactly when the generator collapses
    centred = x - x.mean(dim=0)
    rows = rows or n
    blocks = []
    for start in range(0, n, rows):
        dist = torch.cdist(centred[start:start + rows], centred, compute_mode="donot_use_mm_for_euclid_dist")
        mask = torch.zeros(dist.shape, device=x.device, dtype=x.dtype)
        index = torch.arange(dist.shape[0], device=x.device)
        mask[index, index + start] = float("inf")   # not its own neighbour
        blocks.append((dist + mask).topk(k, dim=1, largest=False).values[:, -1])
    return torch.cat(blocks)


def knn_entropy(samples: torch.Tensor, k: int = 3) -> torch.Tensor:
    """Kozachenko-Leonenko estimate in nats, differentiable in the samples."""
    n, d = samples.shape
    if n < 2:
        raise ValueError(f"knn entropy needs at least 2 samples, got {n}")
    k = min(k, n - 1)
    r_k = kth_neighbour_distance(samples, k)
    # log V_d = (d/2) log pi - log Gamma(d/2 + 1)
    log_unit_ball = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)
    psi = torch.special.digamma
    const = psi(torch.tensor(float(n))) - psi(torch.tensor(float(k))) + log_unit_ball
    return const.to(samples) + d * torch.log(r_k + 1e-12).mean()


def pullaway_term(features: torch.Tensor) -> torch.Tensor:
    """EBGAN's PT: mean squared cosine similarity between distinct rows (0 = orthogonal, 1 = equal)."""
    n = features.shape[0]
    unit = features / (features.norm(dim=1, keepdim=True) + 1e-8)
    cosine = unit @ unit.T
    return (cosine.square().sum() - cosine.diagonal().square().sum()) / (n * (n - 1))


def entropy_estimate(name: str, generator: Generator, samples: torch.Tensor, energy: DeepEnergy) -> torch.Tensor:
    """The named estimate of H(p_G) (higher = more spread) for the batch `samples` = G(z)."""
    if name == "batchnorm":
        return batchnorm_entropy(generator)
    if name == "knn":
        return knn_entropy(samples)
    if name == "pullaway":
        return -pullaway_term(energy.features(energy.to_network(samples)))
    if name == "none":
        return torch.zeros((), device=samples.device)
    if name in ESTIMATORS:
        raise ValueError(f"the {name} estimator needs the latents and the training state: "
                         "models/training.py entropy_term computes it")
    raise ValueError(f"unknown entropy estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
