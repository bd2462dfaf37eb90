"""One training iteration of the paper's method, and of the Langevin baseline.

Energy update (log Z cancels in the gradient, so no partition function is needed):
    d/dtheta  -log p_E(x)  =  dE(x)/dtheta - E_{x'~p_E}[dE(x')/dtheta]
with the model expectation taken over generator samples x' = G(z) instead of MCMC:
    L_E = mean E(x_data) - mean E(G(z))              energy parameters only
Generator update (minimise KL(p_G || p_E) up to the constant log Z):
    L_G = mean E(G(z)) - lambda * H(p_G)             generator parameters only
As in the first author's code: one generator step, then one energy step on the same z (and, for
a noisy generator, the same output noise eps). The estimators "vera" and "mi" hold state of their
own (a posterior proposal, a critic), made at their first step in the TrainingState, seeded from
the run's seed and stepped inside the generator step; it is not saved with a pair.
With `sampler="langevin"` the negatives come from persistent SGLD chains instead, and the
generator is not used.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch

from . import compiled_step
from .energy import DeepEnergy
from .entropy import ESTIMATORS, entropy_estimate
from .entropy_mi import MutualInformation
from .entropy_vera import PosteriorProposal, vera_entropy
from .flat_adam import FlatAdam
from .generator import Generator
from .langevin import LangevinConfig, PersistentSampler

SAMPLERS = ("generator", "langevin")


@dataclass
class TrainConfig:
    sampler: str = "generator"      # where negatives come from: "generator" (the paper) or "langevin"
    entropy: str = "batchnorm"      # entropy estimator, see models/entropy.py
    entropy_weight: float = 1.0     # lambda; 1 is the paper's KL, 0 invites mode collapse
    lr_energy: float = 1e-3         # Adam learning rate of the energy
    lr_generator: float = 1e-3      # Adam learning rate of the generator
    beta1: float = 0.5              # Adam beta1, the usual GAN setting
    compile: bool = False           # the whole iteration as one compiled graph (models/compiled_step.py)
    langevin: LangevinConfig = field(default_factory=LangevinConfig)

    def __post_init__(self):
        if isinstance(self.langevin, dict):
            self.langevin = LangevinConfig(**self.langevin)
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if self.entropy not in ESTIMATORS:
            raise ValueError(f"unknown entropy estimator {self.entropy!r}; choose one of {', '.join(ESTIMATORS)}")


class TrainingState:
    """The models, their optimisers, the seeded random stream and (for Langevin) the chains."""

    def __init__(self, energy: DeepEnergy, generator: Generator, config: TrainConfig, seed: int):
        self.energy = energy
        self.generator = generator
        self.config = config
        device = next(energy.parameters()).device
        self.rng = torch.Generator(device=device).manual_seed(seed)
        self._optimisers: tuple[FlatAdam, FlatAdam] | None = None
        self.langevin = None
        if config.sampler == "langevin":
            self.langevin = PersistentSampler(config.langevin, energy.config.data_dim, self.rng, device)
        self.seed = seed
        self.step = 0
        self.compiled_steps = 0   # iterations the compiled step ran (TrainConfig.compile)
        self.estimators: dict = {}   # "vera": its PosteriorProposal, "mi": its MutualInformation critic

    def estimator(self, name: str):
        """The state the estimator `name` keeps between steps (vera's proposal, mi's critic), made
        the first time it is needed, from the run's seed."""
        if name not in self.estimators:
            g = self.generator.config
            device = next(self.generator.parameters()).device
            if name == "vera":
                self.estimators[name] = PosteriorProposal(g.latent_dim, device)
            elif name == "mi":
                self.estimators[name] = MutualInformation(g.latent_dim, g.data_dim, g.unit, self.seed, device)
            else:
                raise ValueError(f"the {name} estimator keeps no state")
        return self.estimators[name]

    # The optimisers are made at the first step that needs them: a pair that is only looked at
    # never builds one, and keeps its parameters as separate tensors.
    def build_optimisers(self) -> tuple[FlatAdam, FlatAdam]:
        """Both Adams (made once; the same ones after)."""
        if self._optimisers is None:
            betas = (self.config.beta1, 0.999)
            # Adam over one flat buffer per network (models/flat_adam.py): the arithmetic of torch's
            # stock single-tensor Adam, with which the tuned defaults and pretrained pairs were made
            # (bit-identical parameters), and faster. Not torch's fused Adam: faster too, but it
            # rounds differently (timings: docs/speed.md)
            self._optimisers = (
                FlatAdam(self.energy.parameters(), lr=self.config.lr_energy, betas=betas),
                FlatAdam(self.generator.parameters(), lr=self.config.lr_generator, betas=betas))
        return self._optimisers

    @property
    def opt_energy(self) -> FlatAdam:
        return self.build_optimisers()[0]

    @property
    def opt_generator(self) -> FlatAdam:
        return self.build_optimisers()[1]

    def optimiser_states(self) -> tuple[dict, dict] | None:
        """Both optimisers' state dicts (None while none is built), for a restore point."""
        return None if self._optimisers is None else tuple(o.state_dict() for o in self._optimisers)

    def restore_optimisers(self, states: tuple[dict, dict] | None) -> None:
        if states is None:
            self._optimisers = None   # back to fresh optimisers, made at the next step
            return
        for optimiser, state in zip(self.build_optimisers(), states, strict=True):
            optimiser.load_state_dict(state)

    def set_learning_rates(self, lr_energy: float, lr_generator: float) -> None:
        """Change learning rates between steps, keeping Adam's moment estimates."""
        self.config.lr_energy, self.config.lr_generator = lr_energy, lr_generator
        if self._optimisers is None:
            return   # made later with these rates
        for group in self.opt_energy.param_groups:
            group["lr"] = lr_energy
        for group in self.opt_generator.param_groups:
            group["lr"] = lr_generator


def gradients(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor | None]:
    """d loss / d p for each p, None where p is frozen or unused (where .grad would stay None).

    autograd.grad w.r.t. these parameters alone: no other network's gradients are computed or kept."""
    wanted = [p for p in params if p.requires_grad]
    found = iter(torch.autograd.grad(loss, wanted, allow_unused=True))
    return [next(found) if p.requires_grad else None for p in params]


def entropy_term(state: TrainingState, z: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The configured estimate of H(p_G) for the batch fake = G(z) (models/entropy.py); vera and mi
    also take one step of their own state (the proposal's std, the critic)."""
    name = state.config.entropy
    if name == "vera":
        return vera_entropy(state.generator, z, fake, state.estimator("vera"), state.rng)
    if name == "mi":
        return state.estimator("mi").entropy(z, fake, state.rng)
    return entropy_estimate(name, state.generator, fake, state.energy)


def generator_step(state: TrainingState, z: torch.Tensor, noise: torch.Tensor | None = None) -> dict:
    """L_G = mean E(G(z)) - lambda * H(p_G); steps the generator only (and vera's or mi's own state).
    `noise`: the output noise eps of a noisy generator."""
    energy, generator, cfg = state.energy, state.generator, state.config
    fake = generator(z, noise)
    energy_fake = energy(fake).mean()
    entropy = entropy_term(state, z, fake)
    loss = energy_fake - cfg.entropy_weight * entropy
    optimiser = state.opt_generator
    optimiser.step(gradients(loss, optimiser.params))
    return {"loss_generator": loss.detach(), "entropy": entropy.detach()}


def energy_step(state: TrainingState, real: torch.Tensor, negatives: torch.Tensor) -> dict:
    """L_E = mean E(x_data) - mean E(x_negative); steps the energy only."""
    energy = state.energy
    n = real.shape[0]
    energies = energy(torch.cat([real, negatives.detach()]))  # one pass over both halves
    energy_real, energy_fake = energies[:n].mean(), energies[n:].mean()
    loss = energy_real - energy_fake
    optimiser = state.opt_energy
    optimiser.step(gradients(loss, optimiser.params))
    return {"loss_energy": loss.detach(), "energy_real": energy_real.detach(), "energy_fake": energy_fake.detach()}


@contextlib.contextmanager
def frozen_batchnorm_statistics(generator: Generator):
    """Batch statistics still normalise, but running averages are not updated a second time."""
    layers = generator.batchnorm_layers()
    momenta = [bn.momentum for bn in layers]
    for bn in layers:
        bn.momentum = 0.0
    try:
        yield
    finally:
        for bn, momentum in zip(layers, momenta, strict=True):
            bn.momentum = momentum


def train_step(state: TrainingState, real: torch.Tensor, update: str = "both", losses: bool = True) -> dict:
    """One iteration on the data batch `real`. `update`: "both", "energy" or "generator" alone.

    Returns 0-dim tensors (no host sync here; the caller reads them when it needs to). losses=False:
    the caller will not read them, and the compiled step, which can then leave them out, returns {}
    (eager computes them anyway: autograd needs the forward values).
    """
    cfg = state.config
    if cfg.compile:
        # the compiled iteration where it covers this configuration (compiled lazily at the first
        # step); None: eager below (uncovered, or compiling failed once: one warning, then eager)
        metrics = compiled_step.compiled_train_step(state, real, update, losses)
        if metrics is not None:
            return metrics
    metrics: dict = {}
    if cfg.sampler == "langevin":
        if update != "generator":
            negatives = state.langevin.sample(state.energy, real.shape[0])
            metrics.update(energy_step(state, real, negatives))
        state.step += 1
        return metrics
    z = state.generator.sample_latent(real.shape[0], state.rng)
    # a noisy generator's eps: drawn after z, and only for one, so other runs draw what they always drew
    noise = state.generator.sample_noise(real.shape[0], state.rng) if state.generator.config.noise else None
    if update != "energy":
        metrics.update(generator_step(state, z, noise))
    if update != "generator":
        with torch.no_grad(), frozen_batchnorm_statistics(state.generator):
            # the same z (and eps) through the updated generator, as in the author's code
            negatives = state.generator(z, noise)
        metrics.update(energy_step(state, real, negatives))
    state.step += 1
    return metrics
