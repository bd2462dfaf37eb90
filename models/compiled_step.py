"""The whole training iteration as one compiled graph (opt-in: `TrainConfig.compile`).

Eager, one iteration of the default 2-D configuration dispatches ~300 small ops, each through
autograd and Python; on a CPU that overhead, not its 25 matrix products, takes most of its time.
Here the generator step, the running-statistics update, the energy step and both Adam
updates are one functional function, compiled by torch.compile (inductor, one graph, static
shapes; two variants, with and without the step's losses): faster an iteration, after seconds of CPU
to compile each variant the first time (fewer later, from inductor's disk cache; docs/speed.md).
Numbers are not bit-identical to the eager step (the compiler fuses and reorders float arithmetic;
Adam then amplifies it). Over 80 seeds of the ring it trains no worse than eager
(benchmarks/compiled_quality.py), but a run is not the eager run of its seed, so eager stays the
default: the method's checks and the pretrained pairs are eager runs.

The same iteration as models/training.py `train_step`:
    z ~ U(-1, 1)^d
    L_G = mean E(G(z)) - lambda * H(p_G)           generator step (H: batchnorm surrogate or 0)
    L_E = mean E(x_data) - mean E(G'(z))           energy step on the same z, G' the updated generator
with, from the modules' own configs (models/energy.py, models/generator.py),
    E(x) = x.x / sigma^2 - b.x - sum_i softplus(w_i . f(x / unit) + c_i)     (paper, eq. 4)
    f = tanh o Linear o (SiLU o Linear)^(depth - 1)
    G(z) = unit * Linear(ReLU(BN(Linear(...))))
    H ~= sum over BN units of 0.5 * log(2 pi e gamma^2)                    (paper, section 3.2)
and Adam on each network's FlatAdam buffers (models/flat_adam.py: flat parameters, moments, step
counts and learning rate are read from, and written back to, the optimisers themselves, so restore
points, learning-rate changes and switching between compiled and eager steps share one state).

Learning rates, bias corrections and lambda enter as tensors, so changing them never recompiles.
A step whose losses nobody reads (`losses=False`: Run.advance reads them every 10th step) runs a
second graph without them: the gradients need only softplus' derivative, a sigmoid, so its
exp-and-log1p values (the energy's largest elementwise cost: docs/speed.md) are left out.
A configuration this does not cover (other estimators, Langevin, refined negatives, a centred
frame, conv energy, tanh output, a single-network update) runs eager; so does every step after
compiling failed once (one warning).
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import logging
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .entropy import LOG_2PI_E
from .regularisers import REGULARISERS

COVERED_ENTROPIES = ("batchnorm", "none")
# the batch-norm surrogate's constant, under the name build_step reads: its source is fingerprinted
# (fingerprint()), and renaming it there would orphan the compiled graph's seed study
_LOG_2PI_E = LOG_2PI_E
BACKEND = "inductor"   # tests swap in a failing backend
# tanh(a) as 2 / (1 + exp(-2a)) - 1: faster than inductor's default vectorised tanh on a CPU
# (docs/speed.md; the energy's last feature layer runs on 768 rows), within 2e-7 of it
# (absolute, checked over -30..30): far below what Adam's rounding already makes of a run
INDUCTOR_OPTIONS = {"cpp.use_decompose_tanh": True}
THIN_INPUTS = 8   # layers with at most this many inputs take their weight gradient the fast way round

log = logging.getLogger(__name__)
_failure: str | None = None          # why compiling failed, once; from then on every step runs eager
_compiled: dict = {}                 # Spec -> compiled step function


@dataclass(frozen=True)
class Spec:
    """Everything static about one configuration: what the compiled graph is specialised to."""
    energy_shapes: tuple             # parameter shapes, in energy.parameters() order
    generator_shapes: tuple
    energy_depth: int
    use_prior: bool
    energy_unit: float
    generator_depth: int
    generator_unit: float
    bn_eps: float
    bn_momentum: float
    entropy: str
    betas_energy: tuple
    eps_energy: float
    betas_generator: tuple
    eps_generator: float
    losses: bool = True              # the step returns its losses (else only the update is made)


def _mlp_energy_layout(energy) -> str | None:
    """None when `energy` is the MLP DeepEnergy this module reproduces; else why not."""
    cfg = energy.config
    if cfg.extractor != "mlp":
        return f"{cfg.extractor} energy"
    if cfg.centre is not None:
        # a subtraction the graph could make, but build_step's source is fingerprinted (its seed study)
        return "a centred frame (standardise)"
    layers = list(energy.features)
    if len(layers) != 2 * cfg.depth:
        return "unexpected energy layers"
    for i in range(cfg.depth):
        activation = nn.Tanh if i == cfg.depth - 1 else nn.SiLU
        if type(layers[2 * i]) is not nn.Linear or type(layers[2 * i + 1]) is not activation:
            return "unexpected energy layers"
    names = (["log_sigma", "prior_bias"] if cfg.use_prior else []) + \
        [f"features.{2 * i}.{w}" for i in range(cfg.depth) for w in ("weight", "bias")] + \
        ["experts.weight", "experts.bias"]
    if [n for n, _ in energy.named_parameters()] != names:
        return "unexpected energy parameters"
    return None


def _generator_layout(generator) -> str | None:
    cfg = generator.config
    if cfg.output != "linear":
        return f"{cfg.output} generator output"
    if cfg.centre is not None:
        return "a centred frame (standardise)"
    layers = list(generator.net)
    if len(layers) != 3 * cfg.depth + 1 or type(layers[-1]) is not nn.Linear:
        return "unexpected generator layers"
    for i in range(cfg.depth):
        linear, bn, relu = layers[3 * i:3 * i + 3]
        if type(linear) is not nn.Linear or type(bn) is not nn.BatchNorm1d or type(relu) is not nn.ReLU:
            return "unexpected generator layers"
        if not (bn.affine and bn.track_running_stats and isinstance(bn.momentum, float)):
            return "batch norm without affine scales, running statistics or a momentum"
    first = layers[1]
    if any(bn.eps != first.eps or bn.momentum != first.momentum for bn in generator.batchnorm_layers()):
        return "batch-norm layers with different settings"
    names = [f"net.{3 * i + j}.{w}" for i in range(cfg.depth) for j in (0, 1) for w in ("weight", "bias")] + \
        [f"net.{3 * cfg.depth}.weight", f"net.{3 * cfg.depth}.bias"]
    if [n for n, _ in generator.named_parameters()] != names:
        return "unexpected generator parameters"
    return None


def uncovered(state, update: str = "both") -> str | None:
    """Why `state`'s next step cannot run compiled (None: it can)."""
    cfg = state.config
    if update != "both":
        return f"update {update!r}"
    if cfg.sampler != "generator":
        return f"{cfg.sampler} sampler"
    if cfg.entropy not in COVERED_ENTROPIES:
        return f"{cfg.entropy} entropy"
    if cfg.importance or cfg.uniform_negatives:
        return "importance-weighted or uniform negatives"
    if cfg.refine:
        return "refined negatives (Langevin steps)"   # the weight average (ema) is updated outside: covered
    if not state.generator.training:
        return "generator in evaluation mode"   # eager batch norm would use the running statistics
    # the energy's regularisers (models/regularisers.py) are not in the graph; checked at every
    # step, as the loss terms' weights may change between steps
    regularised = [name for name in REGULARISERS if getattr(cfg, name) > 0]
    if getattr(state.energy.config, "spectral_norm", False):
        regularised.append("spectral_norm")
    if regularised:
        return f"energy regularisers {', '.join(regularised)}"
    layout = state.__dict__.get("_compiled_layout")
    if layout is None:   # the networks' structure never changes: checked once per state
        layout = _mlp_energy_layout(state.energy) or _generator_layout(state.generator) or ""
        state._compiled_layout = layout
    if layout:
        return layout
    for optimiser in state.build_optimisers():
        if not optimiser.steps_equal or not all(p.requires_grad for p in optimiser.params):
            return "a parameter without gradients"
        if not optimiser.views_intact():
            return "parameters moved"   # the eager FlatAdam step says so, loudly
    return None


def _spec(state) -> Spec:
    e, g = state.energy, state.generator
    opt_e, opt_g = state.build_optimisers()
    bn = g.batchnorm_layers()[0]
    ge, gg = opt_e.param_groups[0], opt_g.param_groups[0]
    return Spec(energy_shapes=tuple(tuple(p.shape) for p in opt_e.params),
                generator_shapes=tuple(tuple(p.shape) for p in opt_g.params),
                energy_depth=e.config.depth, use_prior=e.config.use_prior, energy_unit=float(e.config.unit),
                generator_depth=g.config.depth, generator_unit=float(g.config.unit),
                bn_eps=float(bn.eps), bn_momentum=float(bn.momentum), entropy=state.config.entropy,
                betas_energy=tuple(map(float, ge["betas"])), eps_energy=float(ge["eps"]),
                betas_generator=tuple(map(float, gg["betas"])), eps_generator=float(gg["eps"]))


def build_step(spec: Spec):
    """The functional iteration for `spec` (uncompiled): see the module's docstring."""
    e_shapes, g_shapes = spec.energy_shapes, spec.generator_shapes
    e_sizes = [math.prod(s) for s in e_shapes]
    g_sizes = [math.prod(s) for s in g_shapes]

    def linear(x, w, b):
        """x @ w.T + b. A layer with few inputs (the data's 2, the latent's 4) multiplies by w.T made
        contiguous: autograd then computes w's gradient as x.T @ grad (2 x 128), not as grad.T @ x
        (128 x 2), which a CPU's GEMM runs several times slower (measured: docs/speed.md)."""
        if w.shape[1] <= THIN_INPUTS:
            return torch.addmm(b, x, w.t().contiguous())
        return F.linear(x, w, b)

    def unflatten(flat, shapes, sizes):
        return [part.view(shape) for part, shape in zip(flat.split(sizes), shapes)]

    def energy_fn(eflat, x):
        p = unflatten(eflat, e_shapes, e_sizes)
        if spec.energy_unit != 1.0:
            x = x / spec.energy_unit                       # E(x) = E'(x / unit)
        i = 2 if spec.use_prior else 0
        h = x
        for layer in range(spec.energy_depth):             # f: SiLU hidden layers, tanh last
            h = linear(h, p[i], p[i + 1])
            h = torch.tanh(h) if layer == spec.energy_depth - 1 else F.silu(h)
            i += 2
        expert_sum = F.softplus(linear(h, p[i], p[i + 1])).sum(dim=1)   # sum_i softplus(w_i.f + c_i)
        if not spec.use_prior:
            return -expert_sum
        prior = (x * x).sum(dim=1) * torch.exp(-2.0 * p[0]) - x @ p[1]    # x.x / sigma^2 - b.x
        return prior - expert_sum

    def generator_fn(gflat, z):
        """G(z) in training mode (batch statistics), and each BN layer's input (for the running stats)."""
        p = unflatten(gflat, g_shapes, g_sizes)
        h, bn_inputs = z, []
        for layer in range(spec.generator_depth):          # Linear -> BN -> ReLU
            w, b, gamma, beta = p[4 * layer:4 * layer + 4]
            a = linear(h, w, b)
            bn_inputs.append(a)
            h = F.relu(F.batch_norm(a, None, None, gamma, beta, True, 0.0, spec.bn_eps))
        x = linear(h, p[-2], p[-1])
        return (x * spec.generator_unit if spec.generator_unit != 1.0 else x), bn_inputs

    def entropy_fn(gflat):
        if spec.entropy == "none":
            return torch.zeros((), dtype=gflat.dtype, device=gflat.device)
        p = unflatten(gflat, g_shapes, g_sizes)
        total = torch.zeros((), dtype=gflat.dtype, device=gflat.device)
        for layer in range(spec.generator_depth):          # 0.5 log(2 pi e gamma^2), as models/entropy.py
            gamma = p[4 * layer + 2]
            total = total + (0.5 * _LOG_2PI_E + 0.5 * torch.log(gamma.square() + 1e-12)).sum()
        return total

    def generator_loss(gflat, eflat, z, lam):
        fake, bn_inputs = generator_fn(gflat, z)
        entropy = entropy_fn(gflat)
        loss = energy_fn(eflat, fake).mean() - lam * entropy
        return loss, (entropy, [a.detach() for a in bn_inputs])

    def energy_loss(eflat, real, negatives):
        n = real.shape[0]
        energies = energy_fn(eflat, torch.cat([real, negatives]))
        energy_real, energy_fake = energies[:n].mean(), energies[n:].mean()
        return energy_real - energy_fake, (energy_real, energy_fake)

    def adam_(flat, grad, exp_avg, exp_avg_sq, step_size, bias_correction2_sqrt, betas, eps):
        # models/flat_adam.py's update; step_size = lr / (1 - beta1^t) and the bias correction are tensors
        beta1, beta2 = betas
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        flat.sub_(step_size * (exp_avg / denom))

    def step(gflat, g_avg, g_avg_sq, eflat, e_avg, e_avg_sq, running, counts, z, real, scalars):
        # scalars: [generator step size, its sqrt(1 - beta2^t), energy step size, its, lambda]
        grad_g, (loss_g, (entropy, bn_inputs)) = torch.func.grad_and_value(generator_loss, has_aux=True)(
            gflat, eflat, z, scalars[4])
        # running statistics from the first pass's batch, once (frozen_batchnorm_statistics: the
        # second pass leaves them, though eager batch norm counts both passes in num_batches_tracked)
        for layer, a in enumerate(bn_inputs):
            var, mean = torch.var_mean(a, dim=0, correction=1)
            running[2 * layer].lerp_(mean, spec.bn_momentum)
            running[2 * layer + 1].lerp_(var, spec.bn_momentum)
            counts[layer].add_(2)
        adam_(gflat, grad_g, g_avg, g_avg_sq, scalars[0], scalars[1], spec.betas_generator, spec.eps_generator)
        negatives, _ = generator_fn(gflat, z)              # the same z through the updated generator
        grad_e, (loss_e, (energy_real, energy_fake)) = torch.func.grad_and_value(energy_loss, has_aux=True)(
            eflat, real, negatives)
        adam_(eflat, grad_e, e_avg, e_avg_sq, scalars[2], scalars[3], spec.betas_energy, spec.eps_energy)
        if not spec.losses:   # unused outputs: inductor drops what only they needed (the softplus values)
            return ()
        return loss_g, entropy, loss_e, energy_real, energy_fake

    return step


def _cached_spec(state, opt_e, opt_g, losses: bool = True) -> Spec:
    """_spec(state), rebuilt only when the estimator, an optimiser or its betas/eps change; the
    variant that returns the step's losses or the one that does not."""
    ge, gg = opt_e.param_groups[0], opt_g.param_groups[0]
    key = (state.config.entropy, opt_e, opt_g, ge["betas"], ge["eps"], gg["betas"], gg["eps"])
    cached = state.__dict__.get("_compiled_spec")
    if cached is None or cached[0] != key:
        spec = _spec(state)
        cached = state._compiled_spec = (key, {True: spec, False: dataclasses.replace(spec, losses=False)})
    return cached[1][losses]


def _step_function(spec: Spec):
    fn = _compiled.get(spec)
    if fn is None:
        options = INDUCTOR_OPTIONS if BACKEND == "inductor" else None
        fn = _compiled[spec] = torch.compile(build_step(spec), fullgraph=True, dynamic=False, backend=BACKEND,
                                             options=options)
    return fn


def _adam_scalars(optimiser) -> tuple[float, float]:
    """(lr / (1 - beta1^t), sqrt(1 - beta2^t)) at the step about to be taken, as FlatAdam computes them."""
    group = optimiser.param_groups[0]
    beta1, beta2 = group["betas"]
    step = float(optimiser.steps[0] + 1)
    return group["lr"] / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5


def compiled_train_step(state, real: torch.Tensor, update: str = "both", losses: bool = True) -> dict | None:
    """One compiled iteration on `state` (as train_step), or None when it must run eager.
    With losses=False it returns {} (the graph without them: the module's docstring)."""
    global _failure
    if _failure is not None or uncovered(state, update) is not None:
        return None
    opt_e, opt_g = state.build_optimisers()
    generator = state.generator
    layers = generator.batchnorm_layers()
    rng_state = state.rng.get_state()   # a failed compile must leave the random stream as eager finds it
    try:
        fn = _step_function(_cached_spec(state, opt_e, opt_g, losses))
        z = generator.sample_latent(real.shape[0], state.rng)
        step_g, bc2_g = _adam_scalars(opt_g)
        step_e, bc2_e = _adam_scalars(opt_e)
        scalars = torch.tensor([step_g, bc2_g, step_e, bc2_e, state.config.entropy_weight],
                               dtype=opt_g.flat.dtype, device=opt_g.flat.device)
        running = [t for bn in layers for t in (bn.running_mean, bn.running_var)]
        counts = [bn.num_batches_tracked for bn in layers]
        out = fn(opt_g.flat, opt_g.exp_avg, opt_g.exp_avg_sq, opt_e.flat, opt_e.exp_avg, opt_e.exp_avg_sq,
                 running, counts, z, real, scalars)
    except Exception as e:   # no C++ compiler, an op inductor refuses, ...: eager from now on
        cause = getattr(e, "inner_exception", None) or e   # dynamo wraps a backend's own error
        _failure = f"{type(cause).__name__}: {' '.join(str(cause).split())}"[:300]
        log.warning("compiled training step unavailable, training eager from now on (%s)", _failure)
        state.rng.set_state(rng_state)
        return None
    for optimiser in (opt_g, opt_e):
        optimiser.count_flat_step()
    state.compiled_steps += 1
    state.step += 1
    if not losses:
        return {}
    loss_g, entropy, loss_e, energy_real, energy_fake = out
    return {"loss_generator": loss_g, "entropy": entropy, "loss_energy": loss_e,
            "energy_real": energy_real, "energy_fake": energy_fake}


def fingerprint() -> str:
    """What the compiled graph computes: a hash of `build_step`'s source, the settings it reads and
    torch's version (benchmarks/compiled_quality.py keys its seed study to it)."""
    text = "\n".join((inspect.getsource(build_step), repr((INDUCTOR_OPTIONS, THIN_INPUTS)), torch.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def failure() -> str | None:
    """Why compiling failed in this process (None: it has not)."""
    return _failure
