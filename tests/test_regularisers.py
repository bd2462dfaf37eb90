"""The energy's regularisers (models/regularisers.py) against their formulas on known cases, off by
default bit for bit, checked as options, saved and loaded with the pair, and finite over a short run."""
import json
import math
import os
from dataclasses import replace

import pytest
import torch

from explorer.config.build import train_config
from explorer.config.options import OPTION_BY_NAME, resolve
from explorer.config.presets import preset_options
from explorer.errors import UserInputError
from explorer.studies.spec import load_study
from explorer.train import parse_args
from explorer.training.run import Run
from models import CheckpointError, DeepEnergy, EnergyConfig, TrainConfig, load_pair, training
from models import regularisers as reg
from models.compiled_step import uncovered

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = os.path.join(ROOT, "assets", "pairs")
ON = {"energy_magnitude": 0.1, "gradient_penalty": 0.1, "energy_weight_decay": 1e-3, "spectral_norm": True}


def ring(**given):
    return resolve(preset_options("paper"), {"steps": 300, "batch_size": 64, **given})


def prior_only_energy(unit=1.0):
    """E(x) = x'.x' / sigma^2 - b.x' - const, x' = x / unit: the experts zeroed (w = 0: constant softplus)."""
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=4, unit=unit)).double()
    with torch.no_grad():
        energy.experts.weight.zero_()
        energy.log_sigma.fill_(math.log(1.5))
        energy.prior_bias.copy_(torch.tensor([0.3, -0.2], dtype=torch.float64))
    return energy


# ----------------------------------------------------------------------------- each term, its formula


@pytest.mark.parametrize("unit", [1.0, 2.0])
def test_the_gradient_penalty_is_the_mean_squared_norm_of_the_closed_form_gradient(unit):
    energy = prior_only_energy(unit)
    x = torch.tensor([[0.5, -1.0], [2.0, 0.25], [-0.7, 0.1]], dtype=torch.float64, requires_grad=True)
    sigma, b = 1.5, torch.tensor([0.3, -0.2], dtype=torch.float64)
    grad = 2 * x.detach() / (unit ** 2 * sigma ** 2) - b / unit     # grad_x of x.x/(u s)^2 - b.x/u
    penalty = reg.gradient_penalty(energy(x), x)
    assert penalty.item() == pytest.approx(grad.square().sum(1).mean().item(), rel=1e-12)
    # and it is differentiable in the parameters (create_graph): d/db mean |g|^2 = -2/u mean g
    (d_b,) = torch.autograd.grad(penalty, energy.prior_bias)
    assert torch.allclose(d_b, -2 / unit * grad.mean(0), rtol=1e-10)


def test_the_magnitude_penalty_is_the_mean_square_of_each_half():
    real, negative = torch.tensor([1.0, -2.0]), torch.tensor([3.0])
    assert reg.magnitude_penalty(real, negative).item() == pytest.approx((1 + 4) / 2 + 9)


def test_weight_decay_sums_the_squares_of_linear_and_conv_weights_only():
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=5))
    weights = [energy.features[0].weight, energy.features[2].weight, energy.experts.weight]
    assert reg.weight_decay(energy).item() == pytest.approx(sum(w.square().sum().item() for w in weights), rel=1e-6)
    decayed = {id(w) for w in reg.decayed_weights(energy)}
    assert decayed == {id(w) for w in weights}   # not biases, sigma or b
    conv = DeepEnergy(EnergyConfig(data_dim=64, hidden=16, experts=8, extractor="conv", use_prior=False))
    assert sum(isinstance(m, torch.nn.Conv2d) for m in conv.modules()) == 2 and len(reg.decayed_weights(conv)) == 4
    normed = DeepEnergy(EnergyConfig(hidden=8, experts=5, spectral_norm=True))
    assert [w.shape for w in reg.decayed_weights(normed)] == [w.shape for w in weights]
    assert all(isinstance(w, torch.nn.Parameter) for w in reg.decayed_weights(normed))   # the raw, trained ones


def state_for(options):
    run = Run(options)
    return run, run._batch()


@pytest.mark.parametrize("name", ["energy_magnitude", "gradient_penalty", "energy_weight_decay"])
def test_the_energy_step_adds_each_term_and_reports_it_only_when_on(name):
    run, real = state_for(ring(**{name: 0.5}))
    state, energy = run.state, run.energy
    negatives = torch.randn(real.shape, generator=torch.Generator().manual_seed(0))
    x = real.clone().requires_grad_(True)
    e_real, e_fake = energy(x), energy(negatives)
    expected = {"energy_magnitude": lambda: reg.magnitude_penalty(e_real, e_fake),
                "gradient_penalty": lambda: reg.gradient_penalty(e_real, x),
                "energy_weight_decay": lambda: reg.weight_decay(energy)}[name]().item() * 0.5
    metrics = training.energy_step(state, real, negatives)
    key = {"energy_magnitude": "penalty_magnitude", "gradient_penalty": "penalty_gradient",
           "energy_weight_decay": "penalty_weight_decay"}[name]
    assert {k for k in metrics if k.startswith("penalty")} == {key}
    assert metrics[key].item() == pytest.approx(expected, rel=1e-5) and metrics[key].dim() == 0
    assert not metrics[key].requires_grad
    contrast = (metrics["energy_real"] - metrics["energy_fake"]).item()
    assert metrics["loss_energy"].item() == pytest.approx(contrast + expected, rel=1e-5, abs=1e-5)
    plain = training.energy_step(Run(ring()).state, real, negatives)
    assert not [k for k in plain if k.startswith("penalty")]


# ----------------------------------------------------------------------------- spectral norm


def test_spectral_norm_gives_top_singular_values_of_one_after_power_iterations():
    energy = DeepEnergy(EnergyConfig(hidden=16, experts=12, spectral_norm=True))
    layers = [energy.features[0], energy.features[2], energy.experts]
    with torch.no_grad():   # weights far from norm 1, so that the normalisation shows
        for layer in layers:
            layer.parametrizations.weight.original.mul_(7.0)
    for _ in range(200):
        reg.power_iteration(energy)
    for layer in layers:
        assert torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item() == pytest.approx(1.0, rel=1e-4)
        assert torch.linalg.matrix_norm(layer.parametrizations.weight.original.detach(), ord=2).item() > 2
    assert len(reg.spectral_norms(energy)) == 3 and not hasattr(energy.log_sigma, "parametrizations")


def test_only_the_energy_step_moves_the_power_iteration():
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=4, spectral_norm=True)).train()
    u = energy.experts.parametrizations.weight[0]._u
    before = u.clone()
    energy(torch.randn(16, 2))                       # a forward in training mode: u stays
    assert torch.equal(u, before) and not any(n.training for n in reg.spectral_norms(energy))
    energy.eval().train()
    assert not any(n.training for n in reg.spectral_norms(energy))
    reg.power_iteration(energy)
    assert not torch.equal(u, before)


def test_spectral_norm_leaves_every_initial_weight_drawn_after_it_as_it_was():
    plain, normed = Run(ring()), Run(ring(spectral_norm=True))
    for (name, a), (_, b) in zip(plain.generator.state_dict().items(), normed.generator.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name
    assert torch.equal(plain.energy.experts.bias, normed.energy.experts.bias)
    assert torch.equal(plain.energy.experts.weight, normed.energy.experts.parametrizations.weight.original)


def test_a_spectral_norm_pair_saves_and_loads_back_strictly(tmp_path):
    run = Run(ring(spectral_norm=True, steps=20))
    run.advance(20)
    run.save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["energy"]["spectral_norm"] is True and config["options"]["spectral_norm"] is True
    energy, _, _ = load_pair(str(tmp_path))
    assert set(energy.state_dict()) == set(run.energy.state_dict())
    assert any("parametrizations.weight.original" in k for k in energy.state_dict())
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(energy(x), run.energy(x))
    again = Run.from_checkpoint(str(tmp_path))
    assert torch.equal(again.energy(x), run.energy(x)) and again.options["spectral_norm"] is True
    # the same weights under a config without spectral norm are refused, not half-loaded
    config["energy"]["spectral_norm"] = False
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not match"):
        load_pair(str(tmp_path))


def test_the_shipped_pairs_still_load_and_a_plain_config_keeps_its_old_keys():
    names = sorted(os.listdir(PAIRS))
    assert names
    for name in names:
        energy, _, config = load_pair(os.path.join(PAIRS, name))
        assert "spectral_norm" not in config["energy"] and not energy.config.spectral_norm, name
    assert "spectral_norm" not in EnergyConfig().to_dict()
    assert Run.from_checkpoint(os.path.join(PAIRS, "ring")).options["spectral_norm"] is False


# ----------------------------------------------------------------------------- off by default, bit for bit


def original_energy_step(state, real, negatives):
    """energy_step as it was before the regularisers (models/training.py at e2d5a76)."""
    energy = state.energy
    n = real.shape[0]
    energies = energy(torch.cat([real, negatives.detach()]))
    energy_real, energy_fake = energies[:n].mean(), energies[n:].mean()
    loss = energy_real - energy_fake
    optimiser = state.opt_energy
    optimiser.step(training.gradients(loss, optimiser.params))
    return {"loss_energy": loss.detach(), "energy_real": energy_real.detach(), "energy_fake": energy_fake.detach()}


def test_the_defaults_train_bit_for_bit_as_the_original_step(monkeypatch):
    options = ring(steps=40)
    assert all(options[name] == OPTION_BY_NAME[name].default for name in ON)
    new = Run(options)
    assert all(getattr(new.state.config, name) == 0 for name in reg.REGULARISERS)
    assert new.state.config == train_config(options, new.dataset) and not new.energy.config.spectral_norm
    new.advance(40)
    monkeypatch.setattr(training, "energy_step", original_energy_step)
    old = Run(options)
    old.advance(40)
    for name, value in old.energy.state_dict().items():
        assert torch.equal(value, new.energy.state_dict()[name]), name
    for name, value in old.generator.state_dict().items():
        assert torch.equal(value, new.generator.state_dict()[name]), name
    assert old.history == new.history


# ----------------------------------------------------------------------------- options, command line, compile


@pytest.mark.parametrize("name, value", [("energy_magnitude", -0.1), ("energy_magnitude", 101),
                                         ("gradient_penalty", 1001), ("gradient_penalty", "steep"),
                                         ("energy_weight_decay", 2), ("spectral_norm", "maybe")])
def test_out_of_bounds_settings_are_refused_naming_the_flag(name, value):
    with pytest.raises(UserInputError, match=OPTION_BY_NAME[name].flag) as info:
        resolve(None, {name: value})
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError):
        if name == "spectral_norm":
            EnergyConfig(spectral_norm=value)
        else:
            TrainConfig(**{name: -1.0})


def test_the_command_line_reads_each_option():
    args = parse_args(["--energy-magnitude", "0.1", "--gradient-penalty", "10", "--energy-weight-decay", "1e-5",
                       "--spectral-norm"])
    options = resolve(None, {name: getattr(args, name) for name in ON})
    assert [options[name] for name in ON] == [0.1, 10.0, 1e-5, True]
    run = Run({**options, "steps": 1})
    assert run.energy.config.spectral_norm and run.state.config.gradient_penalty == 10.0


def test_the_loss_weights_change_live_and_spectral_norm_needs_a_new_run():
    run = Run(ring(steps=10))
    run.advance(2)
    run.update_settings(energy_magnitude=0.5, gradient_penalty=2, energy_weight_decay=1e-4)
    assert (run.state.config.energy_magnitude, run.state.config.gradient_penalty) == (0.5, 2.0)
    run.advance(2)
    assert {"penalty_magnitude", "penalty_gradient", "penalty_weight_decay"} <= set(run.history.arrays())
    with pytest.raises(UserInputError, match="spectral_norm"):
        run.update_settings(spectral_norm=True)


@pytest.mark.parametrize("name", list(ON))
def test_the_compiled_step_declines_each_regulariser(name):
    run = Run(ring(compile=True, **{name: ON[name]}))
    reason = uncovered(run.state)
    assert reason and name in reason
    assert uncovered(Run(ring(compile=True)).state) is None


def test_study_keys_leave_out_the_regularisers_at_their_defaults():
    with open(os.path.join(ROOT, "assets", "studies", "smoke", "runs.jsonl")) as f:
        recorded = {json.loads(line)["key"] for line in f}
    tasks = load_study("smoke").tasks
    assert {task.key for task in tasks} <= recorded   # the shipped study still resumes
    for name, value in ON.items():   # and a run with one on is another run
        assert replace(tasks[0], options={**tasks[0].options, name: value}).key != tasks[0].key


# ----------------------------------------------------------------------------- a short run stays finite


@pytest.mark.parametrize("name", list(ON))
def test_a_short_ring_run_with_each_regulariser_stays_finite(name):
    run = Run(ring(**{name: ON[name]}))
    assert run.advance(300) == 300 and not run.paused and run.warning is None
    for tensor in [*run.energy.state_dict().values(), *run.generator.state_dict().values()]:
        assert torch.isfinite(tensor.float()).all()
    result = run.evaluate(samples=500, resolution=100, record=False, weights=False)
    assert math.isfinite(result["nll"]) and torch.isfinite(torch.as_tensor(run.samples(500, 0))).all()
    assert all(math.isfinite(v) for _, v in run.history[{"energy_magnitude": "penalty_magnitude",
               "gradient_penalty": "penalty_gradient"}.get(name, "loss_energy")])

