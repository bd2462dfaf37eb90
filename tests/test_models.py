"""The method's pieces against known answers: entropy estimators, energy, Langevin, checkpoints,
a seeded training, and the Run's control and divergence handling."""
import json
import math
import os
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from explorer.config.options import resolve
from explorer.errors import UserInputError
from explorer.training.run import LAST_GOOD_EVERY, Run
from models import (
    ESTIMATORS,
    CheckpointError,
    DeepEnergy,
    EnergyConfig,
    Generator,
    GeneratorConfig,
    TrainConfig,
    TrainingState,
    langevin_chain,
    load_pair,
    save_pair,
    train_step,
)
from models.entropy import batchnorm_entropy, knn_entropy, pullaway_term
from models.langevin import adapted_step, mala_chain_with_rate, refine_adapting

# ----------------------------------------------------------------------------- batch-norm entropy


def test_batchnorm_entropy_equals_formula_and_feeds_gammas_only():
    generator = Generator(GeneratorConfig(hidden=6, depth=3))
    rng = np.random.default_rng(0)
    gammas = []
    with torch.no_grad():
        for bn in generator.batchnorm_layers():
            g = rng.uniform(0.2, 3.0, size=6) * rng.choice([-1.0, 1.0], size=6)  # signs must not matter
            bn.weight.copy_(torch.from_numpy(g))
            gammas.append(g)
    gammas = np.concatenate(gammas)
    assert len(gammas) == 18
    expected = np.sum(0.5 * np.log(2 * np.pi * np.e * gammas ** 2))

    value = batchnorm_entropy(generator)
    assert value.shape == ()
    assert value.item() == pytest.approx(expected, rel=1e-6)

    value.backward()
    bn_weights = {id(bn.weight) for bn in generator.batchnorm_layers()}
    for name, p in generator.named_parameters():
        if id(p) in bn_weights:
            # d/dgamma 0.5 log(2 pi e gamma^2) = 1 / gamma
            np.testing.assert_allclose(p.grad.numpy(), 1.0 / p.detach().numpy(), rtol=1e-5)
        else:
            assert p.grad is None or not p.grad.any(), f"{name} got gradient from the BN entropy"


def test_batchnorm_entropy_grows_with_gamma():
    generator = Generator(GeneratorConfig(hidden=4, depth=2))
    before = batchnorm_entropy(generator).item()
    with torch.no_grad():
        for bn in generator.batchnorm_layers():
            bn.weight.mul_(math.e)  # each unit's log|gamma| rises by 1
    assert batchnorm_entropy(generator).item() == pytest.approx(before + 8.0, rel=1e-6)


# ----------------------------------------------------------------------------- kNN entropy


def test_knn_entropy_of_correlated_gaussian():
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([1.0, -2.0], cov, size=2000)
    d = 2
    analytic = 0.5 * math.log((2 * math.pi * math.e) ** d * np.linalg.det(cov))
    estimate = float(knn_entropy(torch.from_numpy(x)))
    assert estimate == pytest.approx(analytic, rel=0.05)


def test_knn_entropy_of_uniform_square():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1.5, 1.5, size=(2000, 2))  # side 3: H = log 9
    estimate = float(knn_entropy(torch.from_numpy(x)))
    assert estimate == pytest.approx(math.log(9.0), rel=0.05)


def test_knn_entropy_tracks_scale_and_is_differentiable():
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.standard_normal((500, 2))).requires_grad_(True)
    h = knn_entropy(x)
    # scaling the samples by s adds d * log s exactly
    assert knn_entropy(3.0 * x.detach()).item() == pytest.approx(h.item() + 2 * math.log(3.0), rel=1e-9)
    h.backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_knn_entropy_refuses_one_sample_and_shrinks_k_for_small_batches():
    with pytest.raises(ValueError, match="at least 2"):
        knn_entropy(torch.zeros(1, 2))
    assert torch.isfinite(knn_entropy(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])))


def test_knn_entropy_of_a_tight_cluster_far_from_the_origin_is_exact_in_float32():
    # the |x|^2 + |y|^2 - 2 x.y shortcut loses such distances in float32; the direct form does not
    g = torch.Generator().manual_seed(0)
    cluster = torch.tensor([2.0, 0.0]) + 0.001 * torch.randn(256, 2, generator=g)
    assert knn_entropy(cluster).item() == pytest.approx(knn_entropy(cluster.double()).item(), abs=1e-3)


# ----------------------------------------------------------------------------- pull-away term


def test_pullaway_identical_rows_is_one():
    row = torch.tensor([0.3, -1.2, 2.0, 0.5])
    features = torch.stack([row, 2.0 * row, -0.5 * row, row])  # same direction up to sign and scale
    assert float(pullaway_term(features)) == pytest.approx(1.0, abs=1e-6)


def test_pullaway_orthogonal_rows_is_zero():
    assert float(pullaway_term(torch.eye(5) * 3.0)) == pytest.approx(0.0, abs=1e-12)


def test_pullaway_sixty_degrees_is_a_quarter():
    features = torch.tensor([[1.0, 0.0], [0.5, math.sqrt(3) / 2]])  # cos 60 = 0.5, squared 0.25
    assert float(pullaway_term(features)) == pytest.approx(0.25, abs=1e-6)


# ----------------------------------------------------------------------------- energy


def test_energy_shapes():
    x = torch.randn(7, 2)
    assert DeepEnergy(EnergyConfig(hidden=8, experts=5))(x).shape == (7,)
    images = torch.rand(3, 64) * 2 - 1
    conv = DeepEnergy(EnergyConfig(data_dim=64, hidden=16, experts=8, extractor="conv", use_prior=False))
    assert conv(images).shape == (3,)


def test_energy_prior_term_exactly():
    torch.manual_seed(0)
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=5)).double()
    sigma, b = 1.7, np.array([0.4, -1.1])
    c = np.array([-2.0, -0.5, 0.0, 0.3, 4.0])
    with torch.no_grad():
        energy.experts.weight.zero_()
        energy.experts.bias.copy_(torch.from_numpy(c))
        energy.log_sigma.fill_(math.log(sigma))
        energy.prior_bias.copy_(torch.from_numpy(b))
    x = np.random.default_rng(4).normal(size=(20, 2)) * 3
    got = energy(torch.from_numpy(x)).detach().numpy()
    softplus_sum = np.sum(np.log1p(np.exp(c)))
    expected = (x ** 2).sum(axis=1) / sigma ** 2 - x @ b - softplus_sum
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_energy_without_prior_is_minus_expert_sum():
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=3, use_prior=False))
    with torch.no_grad():
        energy.experts.weight.zero_()
        energy.experts.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    expected = -float(torch.nn.functional.softplus(torch.tensor([0.0, 1.0, -1.0])).sum())
    out = energy(torch.randn(4, 2) * 10)
    torch.testing.assert_close(out, torch.full((4,), expected))


# ----------------------------------------------------------------------------- Langevin


class QuadraticEnergy(nn.Module):
    """E(x) = |x|^2 / (2 s^2): p_E is N(0, s^2 I)."""

    def __init__(self, s: float):
        super().__init__()
        self.s = s
        self.config = EnergyConfig(data_dim=2)
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return (x * x).sum(dim=1) / (2 * self.s ** 2)


def test_langevin_converges_to_gaussian_from_far_away():
    s = 0.5
    rng = torch.Generator().manual_seed(5)
    start = torch.full((2000, 2), 10.0)
    x = langevin_chain(QuadraticEnergy(s), start, steps=1000, step_size=0.01, rng=rng)
    assert not x.requires_grad
    assert x.mean().abs() < 0.05
    # unadjusted Langevin's stationary std is s / sqrt(1 - eps / (4 s^2)) = 0.5025 here
    np.testing.assert_allclose(x.std(dim=0).numpy(), [s, s], rtol=0.08)


def test_langevin_is_seeded():
    start = torch.zeros(50, 2)
    a = langevin_chain(QuadraticEnergy(1.0), start, 5, 0.1, torch.Generator().manual_seed(1))
    b = langevin_chain(QuadraticEnergy(1.0), start, 5, 0.1, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_a_step_too_large_for_a_sharp_well_throws_plain_langevin_out_and_metropolis_keeps_its_law():
    """The well N(0, 0.01^2 I) (PacGAN's ring's modes) and eps = 5e-4 (the default step there):
    eps / (2 s^2) = 2.5 > 2, so every unadjusted step multiplies x by 1 - 2.5 and the chain blows up;
    MALA refuses those proposals and keeps the samples' law N(0, s^2 I)."""
    s, eps = 0.01, 5e-4
    start = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0)) * s
    plain = langevin_chain(QuadraticEnergy(s), start, 50, eps, torch.Generator().manual_seed(1))
    assert plain.abs().max() > 1e3
    kept = langevin_chain(QuadraticEnergy(s), start, 50, eps, torch.Generator().manual_seed(1), metropolis=True)
    np.testing.assert_allclose(kept.std(dim=0).numpy(), [s, s], rtol=0.06)


def test_metropolis_langevin_converges_to_the_exact_law_where_plain_langevin_is_biased():
    """With eps close to the limit, unadjusted Langevin's stationary std is s / sqrt(1 - eps / (4 s^2))
    (1.29 s at eps = 1.6 s^2); MALA's is s, from far away too."""
    s = 0.5
    eps = 1.6 * s ** 2
    start = torch.full((4000, 2), 3.0)
    plain = langevin_chain(QuadraticEnergy(s), start, 300, eps, torch.Generator().manual_seed(2))
    np.testing.assert_allclose(plain.std(dim=0).numpy(), s / (1 - eps / (4 * s ** 2)) ** 0.5, rtol=0.06)
    exact = langevin_chain(QuadraticEnergy(s), start, 300, eps, torch.Generator().manual_seed(2), metropolis=True)
    assert exact.mean().abs() < 0.03
    np.testing.assert_allclose(exact.std(dim=0).numpy(), [s, s], rtol=0.06)


def test_metropolis_refuses_a_proposal_off_to_infinity_and_is_seeded():
    """A NaN energy at the proposal is refused (the sample stays); the same stream, the same chain."""
    class NanAwayFromOrigin(QuadraticEnergy):
        def forward(self, x):
            e = super().forward(x)
            return torch.where(x[:, 0] > 0.5, e * float("nan"), e)
    start = torch.zeros(500, 2)
    x = langevin_chain(NanAwayFromOrigin(1.0), start, 20, 0.5, torch.Generator().manual_seed(3), metropolis=True)
    assert torch.isfinite(x).all() and (x[:, 0] <= 0.5).all()
    again = langevin_chain(NanAwayFromOrigin(1.0), start, 20, 0.5, torch.Generator().manual_seed(3), metropolis=True)
    assert torch.equal(x, again)


def test_an_adapted_step_follows_the_wells_sharpness_and_reaches_its_acceptance_rate():
    """Robbins-Monro on log eps (adapted_step) from the same start, in wells of std 0.01 (PacGAN's
    ring's modes) and 1: the step settles near MALA's acceptance target in both, and at steps
    whose ratio is the wells' variance ratio, 10^4 (the fixed point scales as s^2)."""
    steps = {}
    for s in (0.01, 1.0):
        well = QuadraticEnergy(s)
        well.config.langevin_step = 1e-3   # the same start in both
        rng = torch.Generator().manual_seed(4)
        x = torch.randn(500, 2, generator=rng) * s
        for _ in range(400):
            x = refine_adapting(well, x, 5, 0.574, rng)
        steps[s] = well.config.langevin_step
        _, rate = mala_chain_with_rate(well, x, 20, steps[s], rng)
        assert abs(float(rate) - 0.574) < 0.05
    np.testing.assert_allclose(steps[1.0] / steps[0.01], 1e4, rtol=0.25)


def test_adapted_step_moves_towards_the_target_and_ignores_a_chain_without_steps():
    assert adapted_step(1e-3, 0.9, 0.574) > 1e-3 > adapted_step(1e-3, 0.1, 0.574)
    assert adapted_step(1e-3, 0.574, 0.574) == 1e-3
    assert adapted_step(1e-3, float("nan"), 0.574) == 1e-3
    np.testing.assert_allclose(adapted_step(1.0, 0.674, 0.574, gain=0.1), np.exp(0.01))


# ----------------------------------------------------------------------------- checkpoints


def small_pair(seed: int = 0):
    torch.manual_seed(seed)
    energy = DeepEnergy(EnergyConfig(hidden=8, experts=6))
    generator = Generator(GeneratorConfig(hidden=8, latent_dim=3))
    with torch.no_grad():  # move BN running statistics away from their initial values
        for _ in range(3):
            generator(torch.rand(16, 3) * 4 - 2)
    return energy, generator


@pytest.fixture
def saved_pair(tmp_path):
    energy, generator = small_pair()
    folder = tmp_path / "pair"
    save_pair(str(folder), energy, generator, extra={"note": "hello"})
    return folder, energy, generator


def test_save_load_round_trip_bit_for_bit(saved_pair):
    folder, energy, generator = saved_pair
    energy2, generator2, config = load_pair(str(folder))
    assert config["note"] == "hello"
    assert not energy2.training and not generator2.training
    x = torch.randn(100, 2)
    assert torch.equal(energy(x), energy2(x))
    a = generator.sample(100, torch.Generator().manual_seed(9))
    b = generator2.sample(100, torch.Generator().manual_seed(9))
    assert torch.equal(a, b)
    for (k1, v1), (k2, v2) in zip(generator.state_dict().items(), generator2.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(v1, v2)


def rewrite_weights(folder, change):
    path = os.path.join(folder, "model.safetensors")
    tensors = load_file(path)
    change(tensors)
    save_file(tensors, path)


def test_strict_load_rejects_wrong_shape(saved_pair):
    folder = saved_pair[0]
    rewrite_weights(folder, lambda t: t.__setitem__("energy.experts.weight", torch.zeros(6, 9)))
    with pytest.raises(CheckpointError, match=r"energy\.experts\.weight"):
        load_pair(str(folder))


def test_strict_load_rejects_wrong_dtype(saved_pair):
    folder = saved_pair[0]
    rewrite_weights(folder, lambda t: t.__setitem__("generator.net.0.bias", t["generator.net.0.bias"].double()))
    with pytest.raises(CheckpointError, match=r"generator\.net\.0\.bias"):
        load_pair(str(folder))


def test_strict_load_rejects_extra_key(saved_pair):
    folder = saved_pair[0]
    rewrite_weights(folder, lambda t: t.__setitem__("generator.sneaky", torch.zeros(2)))
    with pytest.raises(CheckpointError, match="sneaky"):
        load_pair(str(folder))


def test_strict_load_rejects_extra_top_level_key(saved_pair):
    folder = saved_pair[0]
    rewrite_weights(folder, lambda t: t.__setitem__("payload", torch.zeros(2)))
    with pytest.raises(CheckpointError, match="payload"):
        load_pair(str(folder))


def test_strict_load_rejects_missing_key(saved_pair):
    folder = saved_pair[0]
    rewrite_weights(folder, lambda t: t.pop("generator.net.1.running_mean"))
    with pytest.raises(CheckpointError, match=r"net\.1\.running_mean"):
        load_pair(str(folder))


def test_folder_without_config_is_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="config.json"):
        load_pair(str(tmp_path))
    with pytest.raises(CheckpointError, match="not a folder"):
        load_pair(str(tmp_path / "nowhere"))


def test_config_that_is_not_json_is_refused(saved_pair):
    folder = saved_pair[0]
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="JSON"):
        load_pair(str(folder))


def test_config_without_format_or_with_bad_settings_is_refused(saved_pair):
    folder = saved_pair[0]
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "format"}))
    with pytest.raises(CheckpointError, match="format"):
        load_pair(str(folder))
    config["energy"]["layers_of_doom"] = 3
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="layers_of_doom"):
        load_pair(str(folder))


class Trap:
    """Unpickling this creates a marker file: proof that a pickle was loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


@pytest.mark.parametrize("kind", ["torch.save", "pickle"])
def test_pickle_disguised_as_safetensors_is_never_unpickled(saved_pair, monkeypatch, kind):
    folder = saved_pair[0]
    marker = str(folder.parent / f"unpickled-{kind}")
    weights = folder / "model.safetensors"
    weights.unlink()
    if kind == "torch.save":
        torch.save({"energy.experts.weight": torch.zeros(6, 8), "trap": Trap(marker)}, str(weights))
    else:
        weights.write_bytes(pickle.dumps(Trap(marker)))

    def no_unpickling(*args, **kwargs):
        raise AssertionError("a checkpoint was unpickled")
    monkeypatch.setattr(torch, "load", no_unpickling)
    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    with pytest.raises(CheckpointError, match="safetensors"):
        load_pair(str(folder))
    assert not os.path.exists(marker)


# ----------------------------------------------------------------------------- seeded training


def tiny_options(**given):
    return resolve(given={"method": "paper", "steps": 50, "seed": 3, "hidden": 16, "batch_size": 32, **given})


def trained(options, iterations):
    run = Run(options)
    assert run.advance(iterations) == iterations
    return run


def state_tensors(run):
    return {**{f"energy.{k}": v for k, v in run.energy.state_dict().items()},
            **{f"generator.{k}": v for k, v in run.generator.state_dict().items()}}


def test_seeded_training_is_reproducible_bit_for_bit():
    a, b = trained(tiny_options(), 50), trained(tiny_options(), 50)
    sa, sb = state_tensors(a), state_tensors(b)
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name
    assert a.history == b.history
    assert np.array_equal(a.samples(64, 0), b.samples(64, 0))
    # and training changed the weights at all
    fresh = state_tensors(Run(tiny_options()))
    assert not torch.equal(fresh["energy.experts.weight"], sa["energy.experts.weight"])


def test_different_seed_differs():
    a, b = trained(tiny_options(), 50), trained(tiny_options(seed=4), 50)
    sa, sb = state_tensors(a), state_tensors(b)
    assert any(not torch.equal(sa[k], sb[k]) for k in sa if sa[k].is_floating_point())


@pytest.mark.parametrize("given", [{"entropy": e} for e in ESTIMATORS] + [{"sampler": "langevin"}],
                         ids=list(ESTIMATORS) + ["langevin"])
def test_every_estimator_and_sampler_trains_without_nan(given):
    run = trained(tiny_options(steps=20, **given), 20)
    assert run.warning is None and not run.paused
    for name, tensor in state_tensors(run).items():
        if tensor.is_floating_point():
            assert torch.isfinite(tensor).all(), name
    assert run.history, "no metrics were recorded"
    for name, points in run.history.items():
        assert all(math.isfinite(v) for _, v in points), name
    assert np.isfinite(run.samples(32, 0)).all()


# ----------------------------------------------------------------------------- Run control


def test_pause_stops_advance_and_resume_continues():
    run = Run(tiny_options())
    run.advance(5)
    run.paused = True   # as a divergence leaves it
    assert run.advance(10) == 0 and run.step == 5
    assert run.frame().info["paused"]
    run.resume()
    assert run.advance(10) == 10 and run.step == 15


def test_advance_stops_at_the_end_of_the_run():
    run = Run(tiny_options(steps=12))
    assert run.advance(100) == 12 and run.done
    assert run.advance(5) == 0


def test_one_network_alone_stops_at_the_end_of_the_run_too():
    run = Run(tiny_options(steps=12))
    assert run.advance(8, update="energy") == 8
    assert run.advance(10, update="generator") == 4 and run.step == 12
    assert run.advance(5, update="energy") == run.advance(5, update="generator") == 0 and run.step == 12


def test_update_settings_changes_entropy_weight_mid_run():
    run, twin = Run(tiny_options()), Run(tiny_options())
    run.advance(5)
    twin.advance(5)
    run.update_settings(entropy_weight=0.0, lr_energy=0.01)
    assert run.state.config.entropy_weight == 0.0 and run.options["entropy_weight"] == 0.0
    run.advance(1)
    twin.advance(1)
    assert run.state.opt_energy.param_groups[0]["lr"] == pytest.approx(0.01)
    # the next generator step saw a different objective (no entropy bonus on the BN gammas)
    gamma = run.generator.batchnorm_layers()[0].weight
    twin_gamma = twin.generator.batchnorm_layers()[0].weight
    assert not torch.equal(gamma, twin_gamma)
    run.update_settings(entropy="knn")
    assert run.state.config.entropy == "knn"


def test_a_live_change_rebuilds_the_training_config_as_at_the_start():
    from explorer.config.build import train_config
    run = Run(tiny_options())
    run.advance(3)
    wanted = run.options.changed(entropy="knn", entropy_weight=0.25, lr_generator=0.01, hidden=8)
    assert run.reconfigure(wanted)
    assert run.options.live_settings() == wanted.live_settings() and run.options.hidden == 16   # not live: kept
    assert run.state.config == train_config(run.options, run.dataset)
    assert not run.reconfigure(run.options)   # nothing to change
    # EnergyLab's method: the rebuilt config keeps the Langevin step in the data's frame
    run = Run(tiny_options(method="energylab"))
    run.advance(3)
    assert run.reconfigure(run.options.changed(lr_generator=0.01))
    assert run.state.config == train_config(run.options, run.dataset, run.network_frame[1])
    assert run.state.config.langevin.step_size == pytest.approx(1e-3 * run.network_frame[1] ** 2)


def test_update_settings_rejects_non_live_and_bad_values():
    run = Run(tiny_options())
    with pytest.raises(UserInputError, match="hidden"):
        run.update_settings(hidden=8)
    with pytest.raises(UserInputError, match="entropy-weight"):
        run.update_settings(entropy_weight=-1)
    with pytest.raises(UserInputError, match="entropy"):
        run.update_settings(entropy="magic")
    assert run.state.config.entropy_weight == 1.0 and run.state.config.entropy == "batchnorm"


def test_divergence_restores_finite_parameters_and_pauses():
    run = Run(tiny_options(steps=500))
    run.advance(LAST_GOOD_EVERY)   # a restore point is kept every LAST_GOOD_EVERY steps
    good = {k: v.clone() for k, v in state_tensors(run).items()}
    run.advance(10)
    with torch.no_grad():
        run.energy.experts.weight[0, 0] = float("nan")
    run.advance(10)
    assert run.paused
    assert run.warning and "diverged" in run.warning and f"restored step {LAST_GOOD_EVERY}" in run.warning
    assert run.step == LAST_GOOD_EVERY
    now = state_tensors(run)
    for name, tensor in now.items():
        assert torch.equal(tensor, good[name]), name
    assert run.advance(5) == 0  # stays paused until resumed
    run.resume()
    assert run.warning is None
    assert run.advance(5) == 5
    assert all(torch.isfinite(t).all() for t in state_tensors(run).values() if t.is_floating_point())


def test_divergence_on_the_last_step_of_a_run_is_caught():
    # the run ends on a step that is not a multiple of record_every: its losses must still be checked
    run = Run(tiny_options(steps=15))
    run.advance(10)
    with torch.no_grad():
        run.energy.experts.weight[0, 0] = float("nan")
    run.advance(100)
    assert run.paused and run.warning
    assert all(torch.isfinite(t).all() for t in state_tensors(run).values() if t.is_floating_point())


def test_huge_learning_rate_diverges_pauses_and_restores():
    # Adam's bounded steps and the tanh features survive lr 1 with the generator; Langevin chains with
    # step size 1 on an energy moving at lr 1 reliably blow up (checked on seeds 0-3 within 20 steps)
    run = Run(tiny_options(sampler="langevin", langevin_step_size=1.0, langevin_steps=5, hidden=8,
                           lr_energy=1.0, lr_generator=1.0, lr_decay=0.0, steps=100))
    start = {k: v.clone() for k, v in state_tensors(run).items()}
    for _ in range(10):
        if run.paused:
            break
        run.advance(10)
    assert run.paused
    assert run.warning and "diverged" in run.warning and "lower learning rates" in run.warning
    assert run.frame().info["warning"] == run.warning
    for name, tensor in state_tensors(run).items():
        if tensor.is_floating_point():
            assert torch.isfinite(tensor).all(), name
    if run.step == 0:  # it diverged in the first chunk: everything is back to the initial weights
        assert all(torch.equal(start[k], v) for k, v in state_tensors(run).items())


def test_the_energy_step_does_not_update_batchnorm_running_statistics_again():
    # the energy step regenerates G(z) without gradients: batch statistics normalise it, but the
    # running averages must move once per iteration (in the generator step), not twice
    def fresh():
        torch.manual_seed(0)
        state = TrainingState(DeepEnergy(EnergyConfig(hidden=16, experts=16)),
                              Generator(GeneratorConfig(hidden=16)), TrainConfig(), seed=0)
        return state
    real = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    both, generator_only = fresh(), fresh()
    train_step(both, real, "both")
    train_step(generator_only, real, "generator")
    for a, b in zip(both.generator.batchnorm_layers(), generator_only.generator.batchnorm_layers(), strict=True):
        assert torch.equal(a.running_mean, b.running_mean) and torch.equal(a.running_var, b.running_var)


def test_energy_hidden_sets_the_energy_width_alone():
    from explorer.config.options import resolve
    from explorer.training.run import Run
    run = Run(resolve(given={"hidden": 16, "energy_hidden": 24, "steps": 1}))
    assert run.energy.config.hidden == run.energy.config.experts == 24
    assert run.generator.config.hidden == 16
    plain = Run(resolve(given={"hidden": 16, "steps": 1}))
    assert plain.energy.config.hidden == 16  # unset: the energy follows --hidden


def test_optimisers_are_made_at_the_first_step_with_the_rates_of_that_step():
    """A pair only looked at builds no optimiser (the first one imports torch._dynamo, seconds on a
    small CPU); one made late trains exactly as one made at the start."""
    run, twin = Run(tiny_options()), Run(tiny_options())
    assert run.state.optimiser_states() is None
    _ = twin.state.opt_energy   # built now, before any step
    run.update_settings(lr_energy=0.02)
    twin.update_settings(lr_energy=0.02)
    assert run.state.optimiser_states() is None
    run.advance(3)
    twin.advance(3)
    assert run.state.opt_energy.param_groups[0]["lr"] == twin.state.opt_energy.param_groups[0]["lr"]
    for a, b in zip(run._parameters(), twin._parameters(), strict=True):
        assert torch.equal(a, b)
