"""models/flat_adam.py: Adam over one flat buffer gives bit-identical parameters to the stock
torch.optim.Adam the project trained with before, on every kind of run, and keeps working through
learning-rate changes, restore points and checkpoints."""
import copy

import numpy as np
import pytest
import torch

import models.training as training
from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.training.run import Run
from models import TrainingState, train_step
from models.flat_adam import FlatAdam

# ----------------------------------------------------------------------------- stock Adam, as it was


class StockState(TrainingState):
    """TrainingState with the optimisers it had before flat Adam: torch.optim.Adam per network."""

    def build_optimisers(self):
        if self._optimisers is None:
            betas = (self.config.beta1, 0.999)
            self._optimisers = (
                torch.optim.Adam(self.energy.parameters(), lr=self.config.lr_energy, betas=betas),
                torch.optim.Adam(self.generator.parameters(), lr=self.config.lr_generator, betas=betas))
        return self._optimisers


def stock_generator_step(state, z):   # the generator step before flat Adam, verbatim
    energy, generator, cfg = state.energy, state.generator, state.config
    fake = generator(z)
    energy_fake = energy(fake).mean()
    entropy = training.entropy_estimate(cfg.entropy, generator, fake, energy)
    loss = energy_fake - cfg.entropy_weight * entropy
    params = [p for p in generator.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    state.opt_generator.step()
    return {"loss_generator": loss.detach(), "entropy": entropy.detach()}


def stock_energy_step(state, real, negatives):   # the energy step before flat Adam, verbatim
    energy = state.energy
    n = real.shape[0]
    energies = energy(torch.cat([real, negatives.detach()]))
    energy_real, energy_fake = energies[:n].mean(), energies[n:].mean()
    loss = energy_real - energy_fake
    state.opt_energy.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_energy.step()
    return {"loss_energy": loss.detach(), "energy_real": energy_real.detach(), "energy_fake": energy_fake.detach()}


@pytest.fixture
def stock_or_flat(monkeypatch):
    """train_step takes the stock steps for a StockState, the flat ones otherwise."""
    flat_generator_step, flat_energy_step = training.generator_step, training.energy_step
    monkeypatch.setattr(training, "generator_step", lambda state, z, noise=None: (
        stock_generator_step(state, z) if isinstance(state, StockState) else flat_generator_step(state, z, noise)))
    monkeypatch.setattr(training, "energy_step", lambda state, real, negatives: (
        stock_energy_step if isinstance(state, StockState) else flat_energy_step)(state, real, negatives))


def pair(options):
    """Two identical runs: one with stock Adam, one with flat Adam."""
    stock, flat = Run(options), Run(options)
    stock.state.__class__ = StockState
    return stock, flat


def train(run, n):
    """n iterations as Run.advance makes them (scheduled learning rates, the run's batches),
    without its evaluations."""
    for _ in range(n):
        run.state.set_learning_rates(*run._scheduled_learning_rates())
        train_step(run.state, run._batch())


def tensors(run):
    return {**{f"energy.{k}": v for k, v in run.energy.state_dict().items()},
            **{f"generator.{k}": v for k, v in run.generator.state_dict().items()}}


def assert_identical(a, b):
    ta, tb = tensors(a), tensors(b)
    assert ta.keys() == tb.keys()
    different = [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert not different, f"not bit-identical: {different}"


def options(preset, steps, **given):
    # `steps` = the run's length, so the learning-rate decay (lr_decay) runs within the test
    return resolve(preset_options(preset), {"steps": steps, **given})


# ----------------------------------------------------------------------------- bit-identity


@pytest.mark.parametrize("preset, steps, given", [
    ("paper", 400, {}),                                  # the paper's: batch-norm entropy, prior, unit 1
    ("paper", 200, {"entropy": "pullaway"}),
    ("paper", 200, {"entropy": "none"}),
    ("lesson", 300, {}),                                 # kNN entropy, latent 8
    ("grid", 200, {"batch_size": 128, "method": "paper"}),  # unit 2.83, 4-layer generator
    ("digits", 150, {"hidden": 64}),                     # 64-D, tanh output, no prior
    ("digits", 60, {"hidden": 32, "extractor": "conv"}),  # conv energy
    ("ring-langevin", 60, {"langevin_steps": 5}),         # the energy alone, on chains
])
def test_parameters_bit_identical_to_stock_adam(stock_or_flat, preset, steps, given):
    stock, flat = pair(options(preset, steps, **given))
    train(stock, steps)
    train(flat, steps)
    assert isinstance(flat.state.opt_energy, FlatAdam)
    assert isinstance(stock.state.opt_energy, torch.optim.Adam)
    assert_identical(stock, flat)
    untrained = tensors(Run(options(preset, steps, **given)))
    assert not torch.equal(untrained["energy.experts.weight"], tensors(flat)["energy.experts.weight"])


def test_learning_rate_change_mid_run_is_bit_identical(stock_or_flat):
    stock, flat = pair(options("paper", 200))
    for run in (stock, flat):
        train(run, 60)
        run.update_settings(lr_energy=3e-3, lr_generator=2e-4)
        train(run, 60)
    assert flat.state.opt_energy.param_groups[0]["lr"] == stock.state.opt_energy.param_groups[0]["lr"]
    assert_identical(stock, flat)


def test_a_tensor_without_gradient_is_skipped_as_stock_adam_skips_it(stock_or_flat):
    """Stock Adam leaves a tensor whose .grad is None alone (moments, step count, bias corrections);
    frozen for a while, then trained again, it must come out the same. (The generator's tensor is
    frozen from the start only: the stock generator step left a frozen tensor's old .grad in place,
    and stock Adam went on stepping with it.)"""
    stock, flat = pair(options("paper", 150))
    for run in (stock, flat):
        run.generator.net[0].bias.requires_grad_(False)
        train(run, 40)
        run.generator.net[0].bias.requires_grad_(True)
        run.energy.prior_bias.requires_grad_(False)
        train(run, 40)
        run.energy.prior_bias.requires_grad_(True)
        train(run, 40)
    assert sorted(set(flat.state.opt_energy.steps)) == [80, 120]      # prior_bias lags by its 40 skipped steps
    assert sorted(set(flat.state.opt_generator.steps)) == [80, 120]
    assert_identical(stock, flat)


# ----------------------------------------------------------------------------- state, restore, save


def random_streams(run):
    return (run.state.rng.get_state(), copy.deepcopy(run.data_rng), run._pool, run._pool_next)


def set_random_streams(run, streams):
    rng_state, data_rng, pool, pool_next = streams
    run.state.rng.set_state(rng_state)
    run.data_rng, run._pool, run._pool_next = copy.deepcopy(data_rng), pool, pool_next


def test_restore_point_then_training_equals_training_straight_on():
    run = Run(options("paper", 200))
    train(run, 50)
    point, streams = run._copy_state(), random_streams(run)   # what Run keeps against divergence
    train(run, 30)
    straight = {k: v.clone() for k, v in tensors(run).items()}
    train(run, 20)
    run.energy.load_state_dict(point["energy"])            # as Run._diverged restores
    run.generator.load_state_dict(point["generator"])
    run.state.restore_optimisers(point["optimisers"])
    run.state.step = point["step"]
    set_random_streams(run, streams)
    train(run, 30)
    again = tensors(run)
    assert all(torch.equal(straight[k], again[k]) for k in straight)
    # the restore point was a copy, not the live moments
    assert not torch.equal(point["optimisers"][0]["exp_avg"], run.state.opt_energy.exp_avg)


def test_restore_point_made_before_any_step_gives_fresh_optimisers():
    run, twin = Run(options("paper", 100)), Run(options("paper", 100))
    point = run._copy_state()
    assert point["optimisers"] is None
    train(run, 20)
    run.energy.load_state_dict(point["energy"])
    run.generator.load_state_dict(point["generator"])
    run.state.restore_optimisers(None)
    run.state.step = 0
    set_random_streams(run, random_streams(Run(options("paper", 100))))
    train(run, 20)    # rebuilt optimisers re-flatten parameters that were views of the old buffers
    train(twin, 20)
    assert_identical(run, twin)


def test_checkpoint_after_training_saves_and_loads_the_same_pair(tmp_path):
    run = Run(options("paper", 100))
    run.advance(30)
    run.save(str(tmp_path / "pair"))
    loaded = Run.from_checkpoint(str(tmp_path / "pair"))
    assert loaded.step == 30
    assert_identical(run, loaded)
    loaded.advance(5)   # a loaded pair trains on, with fresh optimisers
    assert loaded.step == 35


def test_parameters_stay_leaves_that_share_one_buffer():
    run = Run(options("paper", 10))
    train(run, 2)
    optimiser = run.state.opt_energy
    params = list(run.energy.parameters())
    assert optimiser.params == params
    assert all(isinstance(p, torch.nn.Parameter) and p.is_leaf and p.requires_grad for p in params)
    base = optimiser.flat.data_ptr()
    assert all(p.untyped_storage().data_ptr() == base for p in params)
    assert optimiser.flat.numel() == sum(p.numel() for p in params)


def test_replaced_parameters_are_refused_not_silently_left_untrained():
    run = Run(options("paper", 10))
    train(run, 1)
    with torch.no_grad():
        run.energy.experts.weight.data = run.energy.experts.weight.data.clone()
    with pytest.raises(RuntimeError, match="moved or replaced"):
        train(run, 1)


def test_state_dict_round_trip_and_mismatch():
    a = FlatAdam([torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(()))], lr=0.1)
    a.step([torch.tensor([1.0, -2.0, 3.0]), torch.tensor(0.5)])
    state = copy.deepcopy(a.state_dict())
    b = FlatAdam([torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(()))], lr=0.5)
    b.load_state_dict(state)
    assert b.steps == [1, 1] and b.param_groups[0]["lr"] == 0.1
    assert torch.equal(b.exp_avg, a.exp_avg) and torch.equal(b.exp_avg_sq, a.exp_avg_sq)
    with pytest.raises(ValueError, match="other parameters"):
        FlatAdam([torch.nn.Parameter(torch.ones(4))], lr=0.1).load_state_dict(state)


def test_one_step_matches_the_adam_formula():
    """theta - lr / (1 - b1) * m / (sqrt(v / (1 - b2)) + eps) at step 1: m = (1 - b1) g, v = (1 - b2) g^2."""
    rng = np.random.default_rng(0)
    theta, g = rng.normal(size=5), rng.normal(size=5)
    p = torch.nn.Parameter(torch.tensor(theta, dtype=torch.float64))
    FlatAdam([p], lr=0.01, betas=(0.5, 0.999)).step([torch.tensor(g)])
    m, v = 0.5 * g, 0.001 * g * g
    expected = theta - 0.01 / 0.5 * m / (np.sqrt(v / 0.001) + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12)
