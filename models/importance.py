"""Importance weights for the energy's negatives: the model expectation of the energy's gradient
taken under p_E, not under whatever distribution the negatives happen to have.

The energy's maximum-likelihood gradient needs samples of p_E (models/training.py):
    d/dtheta -log p_E(x) = dE(x)/dtheta - E_{x'~p_E}[dE(x')/dtheta].
The negatives x'_i come from the generator (refined or not), with some density q. Where q puts
the same mass on every mode as the data do, L_E does not see how deep each well is: the data's
pull down and the negatives' push up cancel mode by mode whatever the wells' depths, so the
depths drift and p_E ends up with its mass on a few modes (the remedies study's weight errors).
Self-normalised importance sampling corrects the expectation:
    E_{p_E}[f] ~ sum_i w_i f(x'_i),   w_i = u_i / sum_j u_j,   u_i = p_E(x'_i) / q(x'_i) = exp(-E(x'_i)) / (Z q(x'_i)),
Z cancelling in the normalisation. q is unknown (G is an implicit sampler), so it is estimated
from the batch itself by its k-nearest-neighbour density, as the knn entropy does:
    q(x'_i) ~ k / (N V_d r_k(x'_i)^d)   =>   log u_i = -E(x'_i) + d log r_k(x'_i) + const.
A deeper well now draws larger weights on the negatives in it, and so a larger push up: the
depths are held to the data's mode weights.
Two ways to temper the weights, for the batch's estimate is noisy, a few negatives carry most of
the weight, and those in a flat plateau between modes, where exp(-E) is small, carry almost none,
so nothing would push the plateau up:
- a power, u_i^power with power in (0, 1]: 1 is the estimate above; below 1 it leans towards the
  plain mean (power 0). Biased wherever q is far from p_E: a well that few negatives reach (the
  0.9 / 0.1 pair's small mode) is pushed up too little, and deepens.
- a floor (defensive importance sampling, Hesterberg 1995): w_i = (1 - floor) w_i + floor / N, a
  share of the plain mean kept beside the weighted one. At equilibrium p_data = (1 - floor) p_E +
  floor q, so p_E is off by at most floor / (1 - floor) times the gap between q and the data, and
  exact where the negatives already follow the data. Where they do not, that share goes on pushing:
  where q > 0 and the data have no mass, no p_E >= 0 meets it, so E rises there without bound
  (wine's held-out points between its clusters: 55-60 nats against a Gaussian mixture's 8). With
  `floored` the share covers the generator's negatives alone (training's `floor_uniform` off): the
  uniform negatives over the data's box keep their importance weights, which fall with p_E, so
  the box's empty parts are pushed up only until p_E there is small, not without end. A `ceiling`
  bounds the push instead (training's `floor_margin` m: the data batch's highest energy plus m nats):
  the share goes only to negatives whose energy is below it, so where the data have no mass E rises
  until p_E there is e^-m of the data's least likely point, and stops; the box stays flattened
  (PacGAN's narrow ring needs that) without the energy running away (wine's gap).

The same weights, untempered, turn the generator into a sampler of p_E (`resample`, sampling-
importance-resampling, Rubin 1988): draw M n candidates from G, keep n of them drawn with
probability w_i. A candidate in a bridge between modes, where G puts mass and p_E does not, is
rarely kept, and modes get p_E's weights instead of G's, as far as G reaches them.
"""
from __future__ import annotations

import torch

from .entropy import kth_neighbour_distance

NEIGHBOURS = 5   # k of the density estimate: larger smooths q (biased at peaks), smaller is noisier


ROWS = 256   # candidates a block when measuring neighbour distances: memory ROWS x N, not N x N


TREE_DIMENSIONS = 8   # up to this many dimensions a k-d tree finds neighbours faster than all distances


def log_density_ratio(x: torch.Tensor, energies: torch.Tensor, k: int = NEIGHBOURS, tree: bool = False) -> torch.Tensor:
    """log(exp(-E(x_i)) / q(x_i)) up to a constant, q the kNN density of the points x (N, d) themselves:
    -E(x_i) + d log r_k(x_i), r_k the distance to the k-th nearest other point. No gradients.
    `tree`: r_k from a k-d tree (kth_distance_by_tree) where d is small."""
    n, d = x.shape
    k = min(k, n - 1)
    with torch.no_grad():
        if tree and d <= TREE_DIMENSIONS:
            r_k = kth_distance_by_tree(x.detach(), k)
        else:
            r_k = kth_neighbour_distance(x.detach(), k, rows=ROWS)
        return -energies.detach() + d * torch.log(r_k.to(energies.dtype) + 1e-12)


def kth_distance_by_tree(x: torch.Tensor, k: int) -> torch.Tensor:
    """kth_neighbour_distance's values, without gradients, from scipy's k-d tree: O(N log N) where the
    distance matrix is O(N^2), 3 ms for 2,200 points in 2-D against ~30 (a resampled frame's candidates).
    Measured on the same centred points, in float64 then rounded: equal to the float32 distances or
    one rounding step apart."""
    from scipy.spatial import cKDTree   # here: only resampling needs it

    centred = (x - x.mean(dim=0)).cpu().double().numpy()
    distances, _ = cKDTree(centred).query(centred, k=k + 1)   # the first neighbour is the point itself
    return torch.from_numpy(distances[:, -1]).to(device=x.device, dtype=x.dtype)


def negative_weights(negatives: torch.Tensor, energies: torch.Tensor, power: float, floor: float = 0.0,
                     k: int = NEIGHBOURS, floored: int | None = None,
                     ceiling: torch.Tensor | float | None = None) -> torch.Tensor:
    """Self-normalised weights w_i ∝ (exp(-E(x'_i)) r_k(x'_i)^d)^power of the N negatives (N, d),
    their energies (N,), detached, mixed with the plain mean by `floor`; they sum to 1. The floor's
    share goes to the first `floored` negatives (all by default), b / floored each: the others keep
    (1 - b) w_i alone. With a `ceiling`, only those of them whose energy is below it share the floor
    (none below: the importance weights alone). power 0 or floor 1 gives the plain mean (of the floored ones)."""
    n = negatives.shape[0]
    if n < 2:
        return torch.ones(n, dtype=energies.dtype, device=energies.device)
    weights = torch.softmax(power * log_density_ratio(negatives, energies, k), dim=0)
    if floor == 0:
        return weights
    if ceiling is None and (floored is None or floored >= n):   # every negative floored: no per-step share tensor
        return (1.0 - floor) * weights + floor / n
    eligible = torch.zeros_like(weights, dtype=torch.bool)
    eligible[:n if floored is None else floored] = True
    if ceiling is not None:
        eligible &= energies.detach() < ceiling
    count = eligible.sum()
    if ceiling is not None and count == 0:   # no negative under the ceiling: nothing left to push up
        return weights
    return (1.0 - floor) * weights + eligible.to(weights.dtype) * (floor / count)


def resample(candidates: torch.Tensor, energies: torch.Tensor, n: int, rng: torch.Generator,
             k: int = NEIGHBOURS) -> torch.Tensor:
    """n of the candidates (N, d), drawn with replacement with probability w_i ∝ exp(-E(x_i)) / q(x_i)
    (the candidates' kNN density q), from the seeded stream `rng`."""
    if candidates.shape[0] < 2:
        return candidates[:n]
    weights = torch.softmax(log_density_ratio(candidates, energies, k, tree=True).double(), dim=0)
    index = torch.multinomial(weights.to(rng.device), n, replacement=True, generator=rng)
    return candidates[index.to(candidates.device)]
