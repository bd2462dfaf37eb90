"""One training iteration of the paper's method, and of the Langevin baseline.

Energy update (log Z cancels in the gradient, so no partition function is needed):
    d/dtheta  -log p_E(x)  =  dE(x)/dtheta - E_{x'~p_E}[dE(x')/dtheta]
with the model expectation taken over generator samples x' = G(z) instead of MCMC:
    L_E = mean E(x_data) - mean E(G(z))              energy parameters only
Generator update (minimise KL(p_G || p_E) up to the constant log Z):
    L_G = mean E(G(z)) - lambda * H(p_G)             generator parameters only
As in the first author's code: one generator step, then one energy step on the same z.
Optional regularisers of the energy (models/regularisers.py; all 0 / off by default) add to L_E:
    + alpha * mean(E(x_data)^2 + E(x_negative)^2) + gamma * mean |grad_x E(x_data)|^2 + lambda_w * sum W^2
With a noisy generator the energy step uses the same output noise eps too. The estimators "vera"
and "mi" hold state of their own (a posterior proposal, a critic), made at their first step in
the TrainingState, seeded from the run's seed and stepped inside the generator step; it is not
saved with a pair.
With `sampler="langevin"` the negatives come from persistent SGLD chains instead, and the
generator is not used.

Remedies, all off by default:
- `refine` = K > 0 (CoopNets, models/langevin.py refine): the energy's negatives are G(z) moved by K
  Langevin steps on E,  L_E = mean E(x_data) - mean E(x_K),  x_0 = G(z). The generator's own
  update is unchanged (its KL with the entropy term, on its own samples): CoopNets' generator
  regresses onto x_K instead, |G(z) - x_K|^2, with no entropy term, and that is exactly the term
  that keeps this method from collapsing, so it is not taken over.
- `importance` = power > 0 (models/importance.py): the negatives' term of L_E weighted towards
  p_E,  L_E = mean E(x_data) - sum_i w_i E(x'_i),  w_i ∝ (exp(-E(x'_i)) / q_kNN(x'_i))^power, so that
  the wells' depths follow the data's mode weights. A third remedy, this project's own. With
  `importance_floor` = b keeps a share b of the plain mean beside them (w_i <- (1 - b) w_i + b / N; with
  `floor_uniform` off, b / N_G on the generator's N_G negatives alone, the uniform ones unfloored; with
  `floor_margin` = m > 0, only on negatives whose energy is below max E(x_data) + m). With
  `uniform_negatives` = f > 0, round(f N) points uniform over the data's box join the negatives
  (before any refinement), so that the weights also see wells the generator never visits.
- `ema` = decay > 0 (models/ema.py): an average of the generator's weights, updated after every
  generator step and used to sample, never to train.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch

from . import compiled_step, regularisers
from .ema import GeneratorAverage
from .energy import DeepEnergy
from .entropy import ESTIMATORS, entropy_estimate
from .entropy_mi import MutualInformation
from .entropy_vera import PosteriorProposal, vera_entropy
from .flat_adam import FlatAdam
from .generator import Generator
from .importance import negative_weights
from .langevin import LangevinConfig, PersistentSampler, refine, refine_adapting
from .regularisers import REGULARISERS

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
    energy_magnitude: float = 0.0    # alpha of the energies' magnitude penalty (0: off)
    gradient_penalty: float = 0.0    # gamma of the data gradient penalty (0: off)
    energy_weight_decay: float = 0.0  # lambda of the L2 on the energy's Linear/Conv weights (0: off)
    refine: int = 0                 # Langevin steps on the generator's samples before the energy sees them (CoopNets)
    ema: float = 0.0                # decay of the generator's weight average (models/ema.py); 0: none
    importance: float = 0.0         # power of the negatives' importance weights (models/importance.py); 0: plain mean
    importance_floor: float = 0.0   # share of the plain mean kept beside the importance weights (defensive)
    uniform_negatives: float = 0.0  # extra negatives drawn uniformly over the data's box, a fraction of the batch
    floor_uniform: bool = True      # the importance floor covers the uniform negatives too (False: the generator's alone)
    floor_margin: float = 0.0       # the floor pushes only negatives below max E(data batch) + this (nats); 0: no bound
    step_acceptance: float = 0.0    # refine by MALA, its step adapted towards this acceptance rate; 0: fixed step
    langevin: LangevinConfig = field(default_factory=LangevinConfig)

    def __post_init__(self):
        if isinstance(self.langevin, dict):
            self.langevin = LangevinConfig(**self.langevin)
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if self.entropy not in ESTIMATORS:
            raise ValueError(f"unknown entropy estimator {self.entropy!r}; choose one of {', '.join(ESTIMATORS)}")
        if isinstance(self.refine, bool) or not isinstance(self.refine, int) or self.refine < 0:
            raise ValueError(f"refine must be a whole number of steps, got {self.refine!r}")
        if isinstance(self.importance, bool) or not isinstance(self.importance, (int, float)) \
                or not 0.0 <= self.importance <= 1.0:
            raise ValueError(f"importance must be a power from 0 to 1, got {self.importance!r}")
        if isinstance(self.importance_floor, bool) or not isinstance(self.importance_floor, (int, float)) \
                or not 0.0 <= self.importance_floor <= 1.0:
            raise ValueError(f"importance_floor must be a share from 0 to 1, got {self.importance_floor!r}")
        if isinstance(self.uniform_negatives, bool) or not isinstance(self.uniform_negatives, (int, float)) \
                or not 0.0 <= self.uniform_negatives <= 1.0:
            raise ValueError(f"uniform_negatives must be a fraction from 0 to 1, got {self.uniform_negatives!r}")
        if isinstance(self.floor_margin, bool) or not isinstance(self.floor_margin, (int, float)) \
                or not 0.0 <= self.floor_margin < float("inf"):
            raise ValueError(f"floor_margin must be a number of nats from 0, got {self.floor_margin!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be a decay from 0 to below 1, got {self.ema!r}")
        for name in REGULARISERS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    def regularised(self) -> bool:
        """Is any loss term of models/regularisers.py on?"""
        return any(getattr(self, name) > 0 for name in REGULARISERS)


class TrainingState:
    """The models, their optimisers, the seeded random stream, (for Langevin) the chains and (ema) the
    generator's weight average."""

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
        # made once, from the generator as it starts; not rebuilt when the config is (the decay is not live)
        self.ema = GeneratorAverage(generator, config.ema) if config.ema > 0 and config.sampler == "generator" else None
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
                to_network = self.generator.to_network
                self.estimators[name] = MutualInformation(g.latent_dim, g.data_dim, to_network, self.seed, device)
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
    """L_E = mean E(x_data) - mean E(x_negative) (+ the regularisers that are on); steps the energy only.

    Each regulariser's term (alpha * ..., as added to L_E) is reported, only when it is on, and
    loss_energy is the whole L_E."""
    energy, cfg = state.energy, state.config
    n = real.shape[0]
    if energy.config.spectral_norm:
        regularisers.power_iteration(energy)   # one per update, as Miyato et al.; before the forward
    if cfg.gradient_penalty > 0:
        real = real.detach().requires_grad_(True)   # grad_x E at the data
    energies = energy(torch.cat([real, negatives.detach()]))  # one pass over both halves
    energy_real = energies[:n].mean()
    if cfg.importance > 0:   # E_{p_E}[E(x')] by self-normalised importance weights (models/importance.py)
        # the generator's negatives come first (train_step), the uniform ones after: n of the former
        floored = None if cfg.floor_uniform else n
        # the floor's push bounded: E(x') rises until it is floor_margin nats above the data's highest
        ceiling = energies[:n].detach().max() + cfg.floor_margin if cfg.floor_margin > 0 else None
        weights = negative_weights(negatives, energies[n:], cfg.importance, cfg.importance_floor, floored=floored,
                                   ceiling=ceiling)
        energy_fake = (weights * energies[n:]).sum()
    else:
        energy_fake = energies[n:].mean()
    loss = energy_real - energy_fake
    penalties = {}
    if cfg.energy_magnitude > 0:
        magnitude = regularisers.magnitude_penalty(energies[:n], energies[n:])
        penalties["penalty_magnitude"] = cfg.energy_magnitude * magnitude
    if cfg.gradient_penalty > 0:
        penalties["penalty_gradient"] = cfg.gradient_penalty * regularisers.gradient_penalty(energies[:n], real)
    if cfg.energy_weight_decay > 0:
        penalties["penalty_weight_decay"] = cfg.energy_weight_decay * regularisers.weight_decay(energy)
    for penalty in penalties.values():
        loss = loss + penalty
    optimiser = state.opt_energy
    optimiser.step(gradients(loss, optimiser.params))
    return {"loss_energy": loss.detach(), "energy_real": energy_real.detach(), "energy_fake": energy_fake.detach(),
            **{name: value.detach() for name, value in penalties.items()}}


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


def uniform_negatives(state: TrainingState, negatives: torch.Tensor) -> torch.Tensor:
    """round(fraction * N) points uniform over the data's box (the Langevin chains' restart box), from
    the run's stream: with importance weights, a well the generator never reaches is still seen
    (as Du & Mordatch restart a few chains from noise)."""
    cfg = state.config
    m = max(1, round(cfg.uniform_negatives * negatives.shape[0]))
    low, high = cfg.langevin.init_low, cfg.langevin.init_high
    u = torch.rand(m, negatives.shape[1], generator=state.rng, device=state.rng.device)
    return (low + (high - low) * u).to(negatives)


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
            if state.ema is not None:   # the compiled step covers update "both" only: the generator stepped
                state.ema.update(state.generator)
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
        if state.ema is not None:
            state.ema.update(state.generator)   # theta_ema <- d theta_ema + (1 - d) theta
    if update != "generator":
        with torch.no_grad(), frozen_batchnorm_statistics(state.generator):
            # the same z (and eps) through the updated generator, as in the author's code
            negatives = state.generator(z, noise)
        if cfg.uniform_negatives:
            negatives = torch.cat([negatives, uniform_negatives(state, negatives)])
        if cfg.refine and cfg.step_acceptance:   # MALA with the energy's own step, adapted as it sharpens
            negatives = refine_adapting(state.energy, negatives, cfg.refine, cfg.step_acceptance, state.rng)
        elif cfg.refine:   # x_K: K Langevin steps on E from G(z), the noise from the run's own stream
            negatives = refine(state.energy, negatives, cfg.refine, cfg.langevin.step_size, state.rng,
                               cfg.langevin.metropolis)
        metrics.update(energy_step(state, real, negatives))
    state.step += 1
    return metrics
