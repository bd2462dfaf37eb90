"""The descendants' entropy estimators against known answers (models/entropy_vera.py, models/entropy_mi.py).

VERA's kind of test: a linear generator with Gaussian output noise, x = A z + sigma * eps, whose
entropy and score are known in closed form:
- z ~ N(0, I_k): x ~ N(0, C), C = A A^T + sigma^2 I, score -C^-1 x,
  H = 0.5 logdet(2 pi e C), dH/dA = C^-1 A, dH/dsigma = sigma tr C^-1;
- z ~ U(-1, 1)^2 (the generator's own prior), A = R diag(a) with R a rotation: in u = R^T x the
  coordinates are independent, u_j = a_j z_j + sigma eps_j, each of density
  q_j(u) = [Phi((a_j - u) / sigma) - Phi((-a_j - u) / sigma)] / (2 a_j), whose score is closed form and
  whose entropy is a 1-D integral.
The estimator's score for one x depends on the z that made it (its proposal is centred there), so
it is compared with the true score as training uses it: averaged over z drawn from the exact
posterior p(z | x). Then a trained MI critic on a Gaussian channel, seeded ring runs, the command line.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.special import ndtr, ndtri

from explorer.config.options import resolve
from explorer.errors import UserInputError
from explorer.training.run import Run
from models import ESTIMATORS, Generator, GeneratorConfig, compiled_step, load_pair
from models.entropy_mi import MutualInformation, shuffle_per_dimension
from models.entropy_vera import PosteriorProposal, importance_score, vera_entropy

SIGMA = 0.3


def rotation(angle: float) -> torch.Tensor:
    return torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def normal_pdf(t: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)


class LinearGaussian:
    """x = A z + sigma eps with z ~ N(0, I_k) ("normal") or, in 2-D, U(-1, 1)^2 with A = R diag(a) ("uniform")."""

    def __init__(self, prior: str, k: int = 2, seed: int = 1):
        self.prior, self.k = prior, k
        self.gen = torch.Generator().manual_seed(seed)
        if prior == "normal":
            self.A = torch.randn(2, k, generator=self.gen)
        else:
            self.R, self.a = rotation(0.6), torch.tensor([1.5, 0.7])
            self.A = self.R @ torch.diag(self.a)
        self.sigma = torch.full((2,), SIGMA)

    def mean_map(self, z):
        return z @ self.A.T

    def latents(self, n):
        if self.prior == "normal":
            return torch.randn(n, self.k, generator=self.gen)
        return 2 * torch.rand(n, 2, generator=self.gen) - 1

    def sample(self, n):
        z = self.latents(n)
        return z, self.mean_map(z) + self.sigma * torch.randn(n, 2, generator=self.gen)

    def true_score(self, x):
        if self.prior == "normal":
            return -x @ torch.linalg.inv(self.A @ self.A.T + SIGMA ** 2 * torch.eye(2))
        u = x @ self.R
        high, low = (self.a - u) / SIGMA, (-self.a - u) / SIGMA
        return ((normal_pdf(low) - normal_pdf(high)) / (SIGMA * (ndtr(high) - ndtr(low)))) @ self.R.T

    def posterior(self, x):
        """One exact draw of z ~ p(z | x) for each row of x."""
        n = x.shape[0]
        if self.prior == "normal":
            covariance = torch.linalg.inv(torch.eye(self.k) + self.A.T @ self.A / SIGMA ** 2)
            mean = (x @ self.A / SIGMA ** 2) @ covariance
            return mean + torch.randn(n, self.k, generator=self.gen) @ torch.linalg.cholesky(covariance).T
        # z_j | x ~ N(u_j / a_j, (sigma / a_j)^2) truncated to [-1, 1]
        mean, std = (x @ self.R) / self.a, SIGMA / self.a
        low, high = ndtr((-1 - mean) / std), ndtr((1 - mean) / std)
        return (mean + std * ndtri(low + torch.rand(n, 2, generator=self.gen) * (high - low))).clamp(-1, 1)

    def fitted_proposal(self, steps=300, batch=512):
        """The proposal after `steps` ELBO steps on the model's own samples, as training fits it."""
        proposal = PosteriorProposal(self.k, "cpu", prior=self.prior)
        rng = torch.Generator().manual_seed(2)
        for _ in range(steps):
            z, x = self.sample(batch)
            importance_score(self.mean_map, z, x, self.sigma, proposal, rng)
        return proposal, rng


# ----------------------------------------------------------------------------- VERA: the score


@pytest.mark.parametrize("prior, k", [("normal", 2), ("normal", 4), ("uniform", 2)])
def test_vera_score_matches_the_true_score(prior, k):
    model = LinearGaussian(prior, k)
    proposal, rng = model.fitted_proposal()
    _, x = model.sample(64)
    repeats = 400
    estimate = sum(importance_score(model.mean_map, model.posterior(x), x, model.sigma, proposal, rng,
                                    learn=False)[0] for _ in range(repeats)) / repeats
    true = model.true_score(x)
    relative = float((estimate - true).norm() / true.norm())
    cosine = torch.nn.functional.cosine_similarity(estimate, true, dim=1)
    # measured (seeds fixed), normal k = 2 / normal k = 4 / uniform: relative 0.05 / 0.14 / 0.06,
    # cosine 0.997 / 0.92 / 1.000
    assert relative < 0.2
    if prior == "uniform":   # inside the box the true score is ~0 and its direction noise: the points near an edge
        cosine = cosine[true.norm(dim=1) > true.norm(dim=1).median()]
    assert float(cosine.mean()) > 0.85


def test_the_truncated_proposal_stays_in_the_cube_and_is_a_density():
    proposal = PosteriorProposal(2, "cpu", prior="uniform", std=1.0)
    rng = torch.Generator().manual_seed(0)
    z = torch.tensor([[0.99, -1.0], [0.0, 0.3]])
    draws, log_r = proposal.draw(z, 50000, rng)
    assert draws.abs().max() <= 1.0 and torch.isfinite(log_r).all()
    # importance weights 1 / r against the uniform density 1/4 on the cube: their mean is the cube's area
    area = (-log_r).exp().mean(dim=0)
    assert torch.allclose(area, torch.full((2,), 4.0), rtol=0.03)


def test_vera_entropy_value_is_close_to_the_true_entropy():
    model = LinearGaussian("normal", 2)
    proposal, rng = model.fitted_proposal()
    _, x = model.sample(4096)
    z = model.posterior(x)
    _, log_q = importance_score(model.mean_map, z, x, model.sigma, proposal, rng, learn=False)
    C = model.A @ model.A.T + SIGMA ** 2 * torch.eye(2)
    true = 0.5 * torch.logdet(2 * math.pi * math.e * C)
    # by Jensen's inequality an over-estimate on average: measured +0.21 nats (of 2.13)
    assert 0.0 < float(-log_q.mean() - true) < 0.4


# ----------------------------------------------------------------------------- VERA: the gradient


def surrogate_gradients(model, proposal, rng, A, sigma, n=8192):
    """d H_s / d(A, sigma) for x = A z + sigma eps, the score from the estimator."""
    z = model.latents(n)
    x = z @ A.T + sigma * torch.randn(n, 2, generator=model.gen)
    score, _ = importance_score(model.mean_map, z, x, model.sigma, proposal, rng, learn=False)
    surrogate = -(score * x).sum(dim=1).mean()
    return torch.autograd.grad(surrogate, [A, sigma])


@pytest.mark.parametrize("k", [2, 4])
def test_vera_gradient_points_along_the_true_entropy_gradient(k):
    model = LinearGaussian("normal", k)
    proposal, rng = model.fitted_proposal()
    A, sigma = model.A.clone().requires_grad_(True), torch.tensor(SIGMA, requires_grad=True)
    grad_A, grad_sigma = surrogate_gradients(model, proposal, rng, A, sigma)
    C_inv = torch.linalg.inv(model.A @ model.A.T + SIGMA ** 2 * torch.eye(2))
    cosine = torch.nn.functional.cosine_similarity(grad_A.flatten(), (C_inv @ model.A).flatten(), dim=0)
    assert float(cosine) > 0.8                                 # measured 0.99 (k = 2), 0.90 (k = 4)
    # dH/dsigma has the right sign, but a proposal centred on the z that made x leaks part of
    # -eps / sigma into the score: measured 2.1x (k = 2) and 4.3x (k = 4) the true 1.3 and 0.4
    true_sigma = SIGMA * float(torch.trace(C_inv))
    assert 0 < true_sigma < float(grad_sigma) < 6 * true_sigma


def box_entropy(a: float, sigma: float) -> float:
    """H of a z + sigma eps, z ~ U(-1, 1), eps ~ N(0, 1), by quadrature (float64)."""
    u = torch.linspace(-a - 10 * sigma, a + 10 * sigma, 200001, dtype=torch.float64)
    q = (ndtr((a - u) / sigma) - ndtr((-a - u) / sigma)) / (2 * a)
    integrand = torch.where(q > 0, -q * q.clamp_min(1e-300).log(), torch.zeros_like(q))
    return float(torch.trapezoid(integrand, u))


def test_vera_gradient_on_the_uniform_box_matches_the_quadrature():
    model = LinearGaussian("uniform")
    proposal, rng = model.fitted_proposal()
    a, sigma = model.a.clone().requires_grad_(True), torch.tensor(SIGMA, requires_grad=True)
    z = model.latents(8192)
    x = z @ (model.R @ torch.diag(a)).T + sigma * torch.randn(8192, 2, generator=model.gen)
    score, _ = importance_score(model.mean_map, z, x, model.sigma, proposal, rng, learn=False)
    grad_a, grad_sigma = torch.autograd.grad(-(score * x).sum(dim=1).mean(), [a, sigma])
    h = 1e-4
    true_a = torch.tensor([(box_entropy(aj + h, SIGMA) - box_entropy(aj - h, SIGMA)) / (2 * h)
                           for aj in model.a.tolist()])
    true_sigma = sum((box_entropy(aj, SIGMA + h) - box_entropy(aj, SIGMA - h)) / (2 * h) for aj in model.a.tolist())
    assert torch.allclose(grad_a, true_a.float(), rtol=0.3), (grad_a, true_a)   # measured 17 % and 7 % under
    # sigma's: measured 2.9 against 1.9 (see the Gaussian case's note)
    assert 0 < true_sigma < float(grad_sigma) < 6 * true_sigma


def test_gradient_ascent_on_the_estimate_raises_the_true_entropy():
    model = LinearGaussian("normal", 4)
    proposal, rng = model.fitted_proposal()
    A, sigma = model.A.clone().requires_grad_(True), torch.tensor(SIGMA, requires_grad=True)

    def true_entropy():
        with torch.no_grad():
            return float(0.5 * torch.logdet(2 * math.pi * math.e * (A @ A.T + sigma ** 2 * torch.eye(2))))
    before = true_entropy()
    for _ in range(5):
        grad_A, grad_sigma = surrogate_gradients(model, proposal, rng, A, sigma, n=2048)
        with torch.no_grad():
            A += 0.05 * grad_A
            sigma += 0.05 * grad_sigma
    assert true_entropy() > before + 0.05


# ----------------------------------------------------------------------------- VERA: the generator


def test_the_frozen_mean_map_is_the_generator_that_made_the_batch():
    generator = Generator(GeneratorConfig(latent_dim=4, hidden=16, noise=True, unit=2.0))
    z = generator.sample_latent(64, torch.Generator().manual_seed(0))
    running = [bn.running_mean.clone() for bn in generator.batchnorm_layers()]
    mean_map = generator.mean_map_at(z)
    assert all(torch.equal(r, bn.running_mean) for r, bn in zip(running, generator.batchnorm_layers(), strict=True))
    with torch.no_grad():
        assert torch.allclose(2.0 * mean_map(z), generator(z), atol=1e-5)       # batch statistics
        assert torch.allclose(2.0 * mean_map(z[:5]), generator(z)[:5], atol=1e-5)   # whatever else it is given
        generator.eval()
        assert torch.allclose(2.0 * generator.mean_map_at(z)(z[:5]), generator(z[:5]), atol=1e-5)   # running


def test_a_noisy_generator_samples_with_its_noise_and_keeps_the_floor():
    generator = Generator(GeneratorConfig(latent_dim=4, hidden=16, noise=True))
    assert "log_sigma" in dict(generator.named_parameters())
    with torch.no_grad():
        generator.log_sigma.fill_(-50.0)
    assert torch.allclose(generator.sigma(), torch.full((2,), 0.01))
    with torch.no_grad():
        generator.log_sigma.fill_(math.log(0.5))
    x = generator.sample(4000, torch.Generator().manual_seed(0))
    generator.eval()
    with torch.no_grad():
        mean = generator(generator.sample_latent(4000, torch.Generator().manual_seed(0)))
    assert 0.45 < float((x - mean).std()) < 0.56                      # sigma = 0.01 + 0.5
    with pytest.raises(ValueError, match="noise"):
        vera_entropy(Generator(GeneratorConfig(hidden=8)), torch.zeros(4, 4), torch.zeros(4, 2),
                     PosteriorProposal(4, "cpu"), None)


# ----------------------------------------------------------------------------- MI critic


def test_shuffle_per_dimension_permutes_each_column_on_its_own():
    z = torch.arange(40.0).reshape(20, 2)
    shuffled = shuffle_per_dimension(z, torch.Generator().manual_seed(0))
    for j in range(2):
        assert sorted(shuffled[:, j].tolist()) == z[:, j].tolist()
    assert not torch.equal(shuffled[:, 0] - z[:, 0], shuffled[:, 1] - z[:, 1])   # not whole rows


def trained_mi(noise: float, steps: int = 400, n: int = 256) -> float:
    """I_JS of the channel x = z + noise * eps, z ~ U(-1, 1)^2, from a critic trained `steps` steps."""
    gen = torch.Generator().manual_seed(5)
    estimator = MutualInformation(2, 2, lambda x: x, seed=0, device="cpu")

    def batch():
        z = 2 * torch.rand(n, 2, generator=gen) - 1
        return z, z + noise * torch.randn(n, 2, generator=gen)
    for _ in range(steps):
        estimator.entropy(*batch(), gen)
    with torch.no_grad():
        return float(np.mean([estimator.entropy(*batch(), gen, learn=False).item() for _ in range(20)]))


def test_mi_estimate_grows_as_the_channel_gets_cleaner():
    values = [trained_mi(noise) for noise in (2.0, 0.5, 0.1)]
    assert -2 * math.log(2) - 0.05 < values[0] < values[1] < values[2] < 0.0, values


# ----------------------------------------------------------------------------- runs


def ring(entropy: str, steps: int = 300):
    run = Run(resolve(given={"entropy": entropy, "steps": steps, "seed": 0}))
    assert run.advance(steps) == steps
    return run


@pytest.mark.parametrize("entropy", ["vera", "mi"])
def test_a_ring_run_is_finite_and_deterministic_from_its_seed(entropy):
    a, b = ring(entropy), ring(entropy)
    assert a.warning is None and not a.paused
    assert a.generator.config.noise == (entropy == "vera")
    for (name, p), q in zip(a.generator.state_dict().items(), b.generator.state_dict().values(), strict=True):
        assert torch.isfinite(p.float()).all() and torch.equal(p, q), name
    for p, q in zip(a.energy.parameters(), b.energy.parameters(), strict=True):
        assert torch.isfinite(p).all() and torch.equal(p, q)
    assert all(math.isfinite(v) for _, v in a.history["entropy"])
    assert np.array_equal(a.samples(100, 0), b.samples(100, 0))
    # the compiled step declines it: the iteration ran eager
    assert compiled_step.uncovered(a.state) == f"{entropy} entropy"


def test_a_vera_pair_saves_and_loads_with_its_noise(tmp_path):
    run = ring("vera", steps=20)
    run.save(str(tmp_path))
    _, generator, config = load_pair(str(tmp_path))
    assert config["generator"]["noise"] is True
    assert torch.equal(generator.log_sigma, run.generator.log_sigma)
    again = Run.from_checkpoint(str(tmp_path))
    assert np.array_equal(again.samples(50, 1), run.samples(50, 1))


def test_the_estimator_cannot_switch_vera_on_or_off_mid_run():
    run = Run(resolve(given={"steps": 20, "hidden": 16, "batch_size": 32}))
    run.advance(2)
    assert run.options.shapes_differ(run.options.changed(entropy="vera"))
    assert not run.options.shapes_differ(run.options.changed(entropy="mi"))
    with pytest.raises(UserInputError, match="Reset"):
        run.update_settings(entropy="vera")
    run.update_settings(entropy="mi")   # mi needs no other network: live
    run.advance(2)
    assert run.state.config.entropy == "mi" and "mi" in run.state.estimators


def test_the_command_line_takes_the_new_estimators(repo_root, tmp_path):
    assert {"vera", "mi"} <= set(ESTIMATORS)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    for entropy in ("vera", "mi"):
        out = tmp_path / entropy
        result = subprocess.run([sys.executable, "-m", "explorer.train", "--entropy", entropy, "--steps", "20",
                                 "--batch-size", "32", "--hidden", "16", "--quiet", "--out", str(out)],
                                cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert json.loads((out / "config.json").read_text())["options"]["entropy"] == entropy
