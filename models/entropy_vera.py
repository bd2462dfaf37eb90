"""VERA's entropy gradient (Grathwohl et al. 2021, "No MCMC for me", section 3.1), for a noisy generator.

The generator (models/generator.py, `noise`) is a latent-variable model with a density. In the
network's units y = x / unit:
    z ~ p(z) = U(-1, 1)^k,    y = g(z) + sigma * eps,    eps ~ N(0, I_D),
    q(y) = integral p(z) N(y; g(z), diag sigma^2) dz.
H(q) = -E_q[log q(y)] has no closed form, but its gradient needs only the score of q:
    dH/dtheta = -E_{z, eps}[ grad_y log q(y) . dy/dtheta ]
(the other term, -E_q[d log q_theta(y) / dtheta] at fixed y, is d/dtheta of integral q = 1, zero), and
    grad_y log q(y) = E_{p(z|y)}[ (g(z) - y) / sigma^2 ].
The posterior expectation is estimated by self-normalised importance sampling with M draws z'_m
from a proposal r(z'|y) centred on the z that made y (an exact draw of p(z|y), so the proposal
starts where the posterior's mass is):
    log w_m = log p(z'_m) + log N(y; g(z'_m), sigma^2) - log r(z'_m | y),   w = softmax_m(log w)
    score  ~= sum_m w_m (g(z'_m) - y) / sigma^2
and the generator maximises the surrogate H_s = -mean_i score_i.detach() . y_i, whose gradient is
the estimate of dH/dtheta (sigma included: y depends on it).

Choices here (VERA's where it has one):
- M = NUM_POSTERIOR = 20 draws, as VERA.
- The proposal is a diagonal Gaussian N(z, s^2) with one learned std per latent coordinate, shared
  by all points, s fitted each step by one Adam step on the ELBO
      ELBO(s) = E_r[log p(z') + log N(y; g(z'), sigma^2) - log r(z'|y)] = E_r[log w]
  (VERA's "posterior sigma", initial 0.1, Adam at 0.02), from fresh draws for the first
  ELBO_ROWS = 64 rows (a gradient for k numbers: backpropagating through all M x n draws doubled
  the estimator's cost). It must be learned: a proposal much tighter than the posterior returns
  (g(z) - y) / sigma^2 = -eps / sigma for every draw, whose correlation with dg(z)/dtheta is
  zero, so the map g would get no entropy gradient at all. Centred on z, the proposal still leaks
  part of -eps / sigma into the score: sigma's own entropy gradient comes out too large (2-4x
  on the tests' linear-Gaussian generators), g's points the right way (tests/test_entropy_estimators.py).
- The prior U(-1, 1)^k has a bounded support, so the proposal is the Gaussian *truncated* to the
  cube, drawn by inverting its CDF: z' = z + s * Phi^-1(Phi(a) + u (Phi(b) - Phi(a))),
  a = (-1 - z) / s, b = (1 - z) / s, u ~ U(0, 1), with density
      log r(z'|z) = sum_j [log phi(t_j) - log s_j - log(Phi(b_j) - Phi(a_j))],  t = (z' - z) / s.
  Every draw then lies where p(z') = 2^-k, none is wasted (a plain Gaussian would put draws
  outside the cube, of weight 0: up to all M of them for a z near a corner, a 0 / 0 score), and
  the draw stays differentiable in s for the ELBO. log p(z') = -k log 2 is the same for every
  draw and cancels in w; it is kept so that log q below is a density. (`prior="normal"`, for the
  tests' linear-Gaussian generators, uses an untruncated Gaussian and p = N(0, I).)
- The value reported is not the surrogate's but an estimate of H in nats from the same draws:
      H ~= -mean_i log q^(y_i) + D log unit,   log q^(y) = logsumexp_m log w_m - log M,
  which by Jensen's inequality over-estimates H on average (E log q^ <= log q): by 0.2 nats on the
  tests' 2-D linear-Gaussian generator, but by ~9 nats on the ring (latent 4 > 2 dimensions: the
  posterior is a 2-D sheet of the latent cube, of which the local proposal sees a patch). A
  gauge of the term, not a measurement: the grid entropy (explorer/measures/entropies.py) is that.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

NUM_POSTERIOR = 20             # M, draws of the proposal per sample (VERA: 20)
PROPOSAL_STD_INIT = 0.1        # initial proposal std per latent coordinate (VERA's init_post_logsigma)
PROPOSAL_LR = 0.02             # Adam learning rate of the proposal's log std (VERA's post_lr)
ELBO_ROWS = 64                 # rows of the batch whose fresh draws give the ELBO's gradient (k numbers need few)
PROPOSAL_LOG_STD = (math.log(1e-3), math.log(10.0))   # the log std's range, a guard against runaway steps
PRIORS = ("uniform", "normal")
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
PROBABILITY_EPS = 1e-6         # CDF values are kept this far inside (0, 1), where Phi^-1 is finite


class PosteriorProposal:
    """r(z'|y) = N(z, diag s^2) (truncated to the cube for the uniform prior), s learned by the ELBO."""

    def __init__(self, latent_dim: int, device, prior: str = "uniform", lr: float = PROPOSAL_LR,
                 std: float = PROPOSAL_STD_INIT):
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.prior = prior
        self.log_std = torch.full((latent_dim,), math.log(std), device=device, requires_grad=True)
        self.optimiser = torch.optim.Adam([self.log_std], lr=lr)

    def std(self) -> torch.Tensor:
        return self.log_std.clamp(*PROPOSAL_LOG_STD).exp()

    def draw(self, z: torch.Tensor, samples: int, rng: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(z', log r(z'|z)): `samples` draws around each row of z, shapes (M, n, k) and (M, n)."""
        s = self.std()
        shape = (samples, *z.shape)
        if self.prior == "normal":
            t = torch.randn(shape, generator=rng, device=z.device, dtype=z.dtype)
            return z + s * t, (-0.5 * t.square() - HALF_LOG_2PI - s.log()).sum(-1)
        # truncated to [-1, 1]: inverse CDF between Phi(a) and Phi(b); a <= 0 <= b since z is in the cube
        low, high = torch.special.ndtr((-1.0 - z) / s), torch.special.ndtr((1.0 - z) / s)
        u = torch.rand(shape, generator=rng, device=z.device, dtype=z.dtype)
        t = torch.special.ndtri((low + u * (high - low)).clamp(PROBABILITY_EPS, 1.0 - PROBABILITY_EPS))
        mass = (high - low).clamp_min(PROBABILITY_EPS)
        log_r = (-0.5 * t.square() - HALF_LOG_2PI - s.log() - mass.log()).sum(-1)
        return (z + s * t).clamp(-1.0, 1.0), log_r

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z') summed over coordinates: U(-1, 1)^k (-k log 2 on the cube) or N(0, I)."""
        if self.prior == "normal":
            return (-0.5 * z.square() - HALF_LOG_2PI).sum(-1)
        return torch.full(z.shape[:-1], -z.shape[-1] * math.log(2.0), device=z.device, dtype=z.dtype)


def log_weights(mean_map, z, y, sigma, proposal: PosteriorProposal, samples: int, rng):
    """(log w, g(z')): M draws z'_m of the proposal around each row of z, their log importance
    weights log p(z') + log N(y; g(z'), sigma^2) - log r(z'|y), (M, n), and means g(z'_m), (M, n, D)."""
    n, k = z.shape
    draws, log_r = proposal.draw(z, samples, rng)                               # (M, n, k), (M, n)
    means = mean_map(draws.reshape(samples * n, k)).reshape(samples, n, -1)      # g(z'_m)
    # log N(y; g(z'), sigma^2), summed over the D dimensions
    log_likelihood = (-0.5 * ((y - means) / sigma).square() - sigma.log() - HALF_LOG_2PI).sum(-1)
    return proposal.log_prior(draws) + log_likelihood - log_r, means


def importance_score(mean_map: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, y: torch.Tensor,
                     sigma: torch.Tensor, proposal: PosteriorProposal, rng: torch.Generator | None,
                     samples: int = NUM_POSTERIOR, learn: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(score, log q^): the importance-weighted estimate of grad_y log q(y) for each row of y, (n, D),
    and log q^(y), (n,); both without gradient. `z`: the latents that made y; `mean_map`: g, in the
    units of y; `sigma`: the noise std per dimension. learn: one Adam step of the proposal's std on
    the ELBO of these draws."""
    z, y, sigma = z.detach(), y.detach(), sigma.detach()
    with torch.no_grad():
        log_w, means = log_weights(mean_map, z, y, sigma, proposal, samples, rng)
    if learn:   # maximise ELBO(s) = E_r[log w], on the first ELBO_ROWS rows: gradients for the std alone
        with torch.enable_grad():
            elbo = log_weights(mean_map, z[:ELBO_ROWS], y[:ELBO_ROWS], sigma, proposal, samples, rng)[0].mean()
            (grad,) = torch.autograd.grad(-elbo, [proposal.log_std])
        proposal.optimiser.zero_grad(set_to_none=True)
        proposal.log_std.grad = grad
        proposal.optimiser.step()
    weights = torch.softmax(log_w, dim=0)                                        # w_m, normalised over m
    score = (weights.unsqueeze(-1) * (means - y)).sum(0) / sigma.square()        # sum_m w_m (g(z'_m) - y) / sigma^2
    log_q = torch.logsumexp(log_w, dim=0) - math.log(samples)                   # log (1/M) sum_m w_m
    return score, log_q


def vera_entropy(generator, z: torch.Tensor, x: torch.Tensor, proposal: PosteriorProposal,
                 rng: torch.Generator | None, samples: int = NUM_POSTERIOR, learn: bool = True) -> torch.Tensor:
    """H(p_G) of a noisy generator for the batch x = G(z, eps): its value the importance-sampled
    estimate in nats, its gradient VERA's, -mean score . dx/dtheta (in the network's units)."""
    if not generator.config.noise:
        raise ValueError("the vera estimator needs a generator with output noise (GeneratorConfig.noise)")
    unit = generator.config.unit
    y = generator.to_network(x)   # g(z') + sigma * eps lives in the network's frame: centred and scaled
    score, log_q = importance_score(generator.mean_map_at(z), z, y, generator.sigma(), proposal, rng,
                                    samples, learn)
    surrogate = -(score * y).sum(dim=1).mean()                                   # H_s: gradient dH/dtheta
    value = -log_q.mean() + y.shape[1] * math.log(unit)                          # H in nats, of x
    return surrogate + (value - surrogate.detach())
