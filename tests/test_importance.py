"""The negatives' importance weights (models/importance.py) against known answers, the energy step
that uses them against its formula, and the option's plumbing (bounds, live change, compile, study keys)."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.errors import UserInputError
from explorer.studies.spec import load_study
from explorer.train import parse_args
from explorer.training.run import Run
from models import DeepEnergy, EnergyConfig, Generator, GeneratorConfig, TrainConfig, training
from models.compiled_step import uncovered
from models.entropy import kth_neighbour_distance
from models.importance import kth_distance_by_tree, log_density_ratio, negative_weights, resample


def ring(**given):
    return resolve(preset_options("paper"), {"steps": 300, "batch_size": 64, **given})


def gaussian_draws(n, std, seed, shift=(0.0, 0.0)):
    g = torch.Generator().manual_seed(seed)
    return (std * torch.randn(n, 2, generator=g, dtype=torch.float64) + torch.tensor(shift, dtype=torch.float64))


# ----------------------------------------------------------------------------- known answers


def test_weights_turn_draws_from_a_wide_gaussian_into_moments_of_the_narrow_one():
    # q = N(0, 2^2 I), E(x) = |x|^2 / 2, so p_E = N(0, I): E_pE |x|^2 = 2, E_q |x|^2 = 8
    x = gaussian_draws(4000, 2.0, seed=0)
    energies = 0.5 * x.square().sum(1)
    w = negative_weights(x, energies, power=1.0)
    assert w.sum().item() == pytest.approx(1.0) and (w >= 0).all()
    assert (w * x.square().sum(1)).sum().item() == pytest.approx(2.0, abs=0.3)
    plain = negative_weights(x, energies, power=0.0)
    assert torch.allclose(plain, torch.full_like(plain, 1 / 4000))
    assert (plain * x.square().sum(1)).sum().item() == pytest.approx(8.0, abs=0.5)


def test_weights_give_a_deeper_well_its_share_of_the_mass():
    # negatives: half in each of two far-apart modes; p_E: the same modes, weights 0.9 and 0.1
    a, b = gaussian_draws(1000, 0.1, seed=1, shift=(-3.0, 0.0)), gaussian_draws(1000, 0.1, seed=2, shift=(3.0, 0.0))
    x = torch.cat([a, b])
    log_density = lambda centre: -((x - torch.tensor(centre, dtype=x.dtype)).square().sum(1)) / (2 * 0.01)  # noqa: E731
    energies = -torch.logaddexp(math.log(0.9) + log_density((-3.0, 0.0)), math.log(0.1) + log_density((3.0, 0.0)))
    w = negative_weights(x, energies, power=1.0)
    assert w[:1000].sum().item() == pytest.approx(0.9, abs=0.05)
    # tempered: between the plain half and the full correction
    half = negative_weights(x, energies, power=0.5)[:1000].sum().item()
    assert 0.55 < half < 0.85
    # a floor keeps a share of the plain mean: 0.8 * 0.9 + 0.2 * 0.5 = 0.82, and the weights still sum to 1
    floored = negative_weights(x, energies, power=1.0, floor=0.2)
    assert floored[:1000].sum().item() == pytest.approx(0.82, abs=0.05)
    assert floored.sum().item() == pytest.approx(1.0)
    assert torch.allclose(floored, 0.8 * w + 0.2 / 2000)
    # the floor on the first 1,500 alone (the generator's; the last 500 the uniform ones): they share
    # 0.2 equally, the others keep 0.8 w
    generators_only = negative_weights(x, energies, power=1.0, floor=0.2, floored=1500)
    assert torch.allclose(generators_only[:1500], 0.8 * w[:1500] + 0.2 / 1500)
    assert torch.allclose(generators_only[1500:], 0.8 * w[1500:])
    assert generators_only.sum().item() == pytest.approx(1.0)


def test_off_floor_uniform_uniform_negatives_in_empty_space_stop_being_pushed():
    """A negative where p_E is already 1e-20 of the rest: with the floor it still carries b / N of the
    push (the energy there rises for ever); with floor_uniform off, as a uniform negative, almost none."""
    x = torch.cat([gaussian_draws(200, 0.1, seed=3), torch.tensor([[5.0, 5.0]])])
    energies = torch.cat([torch.zeros(200), torch.tensor([46.0])])   # exp(-46) ~ 1e-20
    assert negative_weights(x, energies, power=1.0, floor=0.2)[-1].item() == pytest.approx(0.2 / 201, rel=1e-3)
    assert negative_weights(x, energies, power=1.0, floor=0.2, floored=200)[-1].item() < 1e-15


def test_a_ceiling_stops_the_floors_push_on_negatives_above_it():
    """With a ceiling, the floor's share goes only to negatives whose energy is below it, b / count
    each; the weights still sum to 1; with none below it, the importance weights alone."""
    x = torch.cat([gaussian_draws(200, 0.1, seed=3), torch.tensor([[5.0, 5.0], [-5.0, 5.0]])])
    energies = torch.cat([torch.zeros(200), torch.tensor([46.0, 3.0])])
    w = negative_weights(x, energies, power=1.0)
    capped = negative_weights(x, energies, power=1.0, floor=0.2, ceiling=10.0)
    assert capped[-2].item() == pytest.approx(0.8 * w[-2].item()) and capped[-2].item() < 1e-15
    assert torch.allclose(capped[:200], 0.8 * w[:200] + 0.2 / 201)
    assert capped[-1].item() == pytest.approx(0.8 * w[-1].item() + 0.2 / 201)
    assert capped.sum().item() == pytest.approx(1.0)
    # combined with `floored`: the first 200 (the generator's) only, and of them those below the ceiling
    both = negative_weights(x, energies, power=1.0, floor=0.2, floored=200, ceiling=10.0)
    assert torch.allclose(both[:200], 0.8 * w[:200] + 0.2 / 200) and both[-1].item() == pytest.approx(0.8 * w[-1].item())
    assert torch.equal(negative_weights(x, energies, power=1.0, floor=0.2, ceiling=-1.0), w)


def test_the_energy_step_puts_the_ceiling_floor_margin_above_the_datas_highest_energy(monkeypatch):
    seen = {}

    def spy(negatives, energies, power, floor, floored=None, ceiling=None):
        seen["ceiling"] = ceiling
        return negative_weights(negatives, energies, power, floor, floored=floored, ceiling=ceiling)

    monkeypatch.setattr(training, "negative_weights", spy)
    energy, generator = DeepEnergy(EnergyConfig()), Generator(GeneratorConfig())
    real = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    for margin, expected in ((0.0, None), (4.0, 4.0)):
        state = training.TrainingState(energy, generator, TrainConfig(importance=1.0, importance_floor=0.2,
                                                                      floor_margin=margin), seed=0)
        highest = energy(real).max().item()
        training.energy_step(state, real, torch.randn(40, 2, generator=torch.Generator().manual_seed(1)))
        if expected is None:
            assert seen["ceiling"] is None
        else:
            assert seen["ceiling"].item() == pytest.approx(highest + expected, abs=1e-5)
    assert resolve(None, {"floor_margin": 8})["floor_margin"] == 8.0
    with pytest.raises(ValueError, match="floor_margin"):
        TrainConfig(floor_margin=-1.0)


class TwoWells(torch.nn.Module):
    """E(x) = -log(0.5 N(x; (-2, 0), 0.1^2) + 0.5 N(x; (2, 0), 0.1^2)): a known energy, in data units."""

    def __init__(self):
        super().__init__()
        self.config = EnergyConfig()
        self.anchor = torch.nn.Parameter(torch.zeros(()))   # where the samples' device is read

    def forward(self, x):
        wells = torch.tensor([[-2.0, 0.0], [2.0, 0.0]], dtype=x.dtype)
        log_n = -(x[:, None, :] - wells[None]).square().sum(-1) / (2 * 0.01)
        return -torch.logsumexp(log_n, dim=1) + 0 * self.anchor


class OneWellGenerator:
    """A generator that only ever samples the left well."""

    def sample(self, n, rng):
        return torch.tensor([-2.0, 0.0]) + 0.1 * torch.randn(n, 2, generator=rng)


def test_resampling_with_uniform_candidates_reaches_a_well_the_generator_drops():
    from explorer.config.options import PAPER_METHOD, resolve
    from explorer.measures.evaluation import model_samples
    options = resolve(PAPER_METHOD, {"resample": 4, "refine": 10, "langevin_step_size": 0.002})
    box = (-4.0, 4.0, -4.0, 4.0)
    alone = model_samples(TwoWells(), OneWellGenerator(), options, 2000, 0, box)
    assert (alone[:, 0] > 0).mean() == 0   # from G's draws alone the right well is never reached
    options = resolve(PAPER_METHOD, {"resample": 4, "refine": 10, "langevin_step_size": 0.002,
                                      "uniform_negatives": 0.5})
    both = model_samples(TwoWells(), OneWellGenerator(), options, 2000, 0, box)
    assert both.shape == (2000, 2)
    assert 0.3 < (both[:, 0] > 0).mean() < 0.7   # p_E's half, from the uniform candidates drawn into it


def test_resampling_draws_from_a_wide_gaussian_follow_the_narrow_one():
    x = gaussian_draws(8000, 2.0, seed=3)
    kept = resample(x, 0.5 * x.square().sum(1), 2000, torch.Generator().manual_seed(0))
    assert kept.shape == (2000, 2)
    assert kept.square().sum(1).mean().item() == pytest.approx(2.0, abs=0.3)   # E_pE |x|^2 for N(0, I)
    again = resample(x, 0.5 * x.square().sum(1), 2000, torch.Generator().manual_seed(0))
    assert torch.equal(kept, again)   # the seeded stream decides


def test_the_tree_measures_the_neighbour_distances_of_the_distance_matrix():
    """Resampling's k-d tree gives the k-th neighbour distances of the blocked distance matrix (the
    training's), equal or one float32 rounding apart, on a tight cluster away from the origin and
    with duplicated points; and so the same resampled points, for the same stream."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2200, 2, generator=g) * 0.01 + torch.tensor([1.0, 0.5])
    x = torch.cat([x, x[:40]])   # duplicates: their k-th other neighbour, not themselves
    for k in (1, 5):
        matrix, tree = kth_neighbour_distance(x, k, rows=256), kth_distance_by_tree(x, k)
        assert torch.allclose(tree, matrix, rtol=2.5e-7, atol=0)
    energies = (x - torch.tensor([1.0, 0.5])).square().sum(dim=1) / (2 * 0.01 ** 2)
    kept = resample(x, energies, 500, torch.Generator().manual_seed(1))
    by_matrix = torch.softmax(log_density_ratio(x, energies).double(), dim=0)
    index = torch.multinomial(by_matrix, 500, replacement=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(kept, x[index])


def test_the_energy_step_takes_the_weighted_mean_of_the_negatives():
    torch.manual_seed(0)
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=4))
    generator = Generator(GeneratorConfig(hidden=8, latent_dim=2))
    state = training.TrainingState(energy, generator, TrainConfig(importance=0.7), seed=0)
    real, negatives = torch.randn(32, 2), 2 * torch.randn(32, 2)
    # the expected gradient, from the formula: L_E = mean E(real) - sum_i w_i E(neg_i), w held fixed
    weights = negative_weights(negatives, energy(negatives).detach(), 0.7)
    expected_loss = energy(real).mean() - (weights * energy(negatives)).sum()
    expected = torch.autograd.grad(expected_loss, list(energy.parameters()))
    before = [p.detach().clone() for p in energy.parameters()]
    seen = {}
    original = state.opt_energy.step
    state.opt_energy.step = lambda grads: seen.setdefault("grads", grads) and original(grads)
    metrics = training.energy_step(state, real, negatives)
    assert metrics["loss_energy"].item() == pytest.approx(expected_loss.item(), rel=1e-5)
    for got, want in zip(seen["grads"], expected, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert any(not torch.equal(b, p) for b, p in zip(before, energy.parameters(), strict=True))


# ----------------------------------------------------------------------------- the options


@pytest.mark.parametrize("floor_uniform, floored", [(True, None), (False, 32)])
def test_the_energy_step_floors_the_generators_negatives_or_all(floor_uniform, floored):
    """floor_uniform off: the floor's share goes to the batch's generator negatives (the first n)."""
    torch.manual_seed(0)
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=4))
    generator = Generator(GeneratorConfig(hidden=8, latent_dim=2))
    config = TrainConfig(importance=1.0, importance_floor=0.2, uniform_negatives=0.25, floor_uniform=floor_uniform)
    state = training.TrainingState(energy, generator, config, seed=0)
    real, negatives = torch.randn(32, 2), 2 * torch.randn(40, 2)   # 32 from G, 8 uniform
    weights = negative_weights(negatives, energy(negatives).detach(), 1.0, 0.2, floored=floored)
    expected = energy(real).mean() - (weights * energy(negatives)).sum()
    assert training.energy_step(state, real, negatives)["loss_energy"].item() == pytest.approx(expected.item(),
                                                                                              rel=1e-5)
    assert resolve(None, {"floor_uniform": floor_uniform})["floor_uniform"] is floor_uniform


def test_uniform_negatives_join_the_batch_inside_the_data_box():
    run = Run(ring(uniform_negatives=0.25, importance=0.5, batch_size=64))
    seen = {}
    original = training.energy_step
    training.energy_step = lambda state, real, negatives: seen.setdefault("n", negatives) is None or original(
        state, real, negatives)
    try:
        run.advance(1)
    finally:
        training.energy_step = original
    negatives = seen["n"]
    assert negatives.shape == (64 + 16, 2)
    low, high = run.state.config.langevin.init_low, run.state.config.langevin.init_high
    assert ((negatives[64:] >= low) & (negatives[64:] <= high)).all()


def test_a_resampling_pair_samples_n_points_closer_to_its_modes():
    plain = Run(ring(steps=300, entropy="knn", standardise=True, importance=0.5, uniform_negatives=0.1))
    plain.advance(300)
    resampling = Run(ring(steps=300, entropy="knn", standardise=True, importance=0.5, uniform_negatives=0.1,
                          resample=4))
    resampling.advance(300)   # the same training (resample acts on sampling only): the same weights
    for name, value in plain.energy.state_dict().items():
        assert torch.equal(value, resampling.energy.state_dict()[name]), name
    raw, kept = plain.samples(1000, 0), resampling.samples(1000, 0)
    assert kept.shape == raw.shape == (1000, 2)
    # the mean distance to the nearest mode: 0.71 -> 0.59 (one thread), 0.67 -> 0.62 (two), 300 steps
    # in; the high-quality fraction (3-5 % either way this early) swapped order between the two
    centres = plain.dataset.mixture.centers
    def to_modes(x):
        return np.sqrt(((x[:, None, :] - centres[None]) ** 2).sum(-1)).min(axis=1).mean()
    assert to_modes(kept) < 0.95 * to_modes(raw)


@pytest.mark.parametrize("name, value", [("importance", -0.1), ("importance", 1.5), ("importance", "heavy"),
                                         ("importance_floor", -0.2), ("importance_floor", 1.2),
                                         ("uniform_negatives", 2.0), ("resample", 17), ("resample", 0.5)])
def test_out_of_bounds_settings_are_refused_naming_the_flag(name, value):
    with pytest.raises(UserInputError, match="--" + name.replace("_", "-")):
        resolve(None, {name: value})
    with pytest.raises(ValueError):
        TrainConfig(importance=-1.0)
    with pytest.raises(ValueError):
        TrainConfig(uniform_negatives=1.5)


def test_the_command_line_reads_it_and_the_langevin_sampler_refuses_it():
    assert parse_args(["--importance", "0.5"]).importance == 0.5
    assert Run(ring(importance=0.5, steps=1)).state.config.importance == 0.5
    for name, value in (("importance", 0.5), ("importance_floor", 0.2), ("uniform_negatives", 0.1), ("resample", 4)):
        with pytest.raises(UserInputError, match="--" + name.replace("_", "-")):
            resolve(None, {"sampler": "langevin", name: value})


def test_it_changes_live_and_the_compiled_step_declines_it():
    run = Run(ring(steps=10))
    run.advance(2)
    run.update_settings(importance=0.5)
    assert run.state.config.importance == 0.5
    run.advance(2)
    assert "importance" in uncovered(Run(ring(compile=True, importance=0.5)).state)
    assert "uniform" in uncovered(Run(ring(compile=True, uniform_negatives=0.1)).state)


def test_study_keys_leave_it_out_at_its_default():
    task = load_study("smoke").tasks[0]
    assert "importance" in task.options and task.options["importance"] == 0.0
    for name, value in (("importance", 0.5), ("importance_floor", 0.2), ("uniform_negatives", 0.1), ("resample", 4)):
        assert replace(task, options={**task.options, name: value}).key != task.key
    # floor_uniform: on before the option existed, so a run's key names it only when off
    assert replace(task, options={**task.options, "floor_uniform": True}).key == task.key
    assert replace(task, options={**task.options, "floor_uniform": False}).key != task.key


def test_a_short_ring_run_with_weighted_negatives_stays_finite():
    run = Run(ring(importance=0.5, entropy="knn", standardise=True))
    assert run.advance(300) == 300 and run.warning is None
    for tensor in [*run.energy.state_dict().values(), *run.generator.state_dict().values()]:
        assert torch.isfinite(tensor.float()).all()
    assert math.isfinite(run.evaluate(samples=500, resolution=100, record=False, weights=False)["nll"])
