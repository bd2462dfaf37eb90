"""Scale-free units (`standardise`), CoopNets' refinement (`refine`) and the generator's weight
average (`ema`): each against a case with a known answer, and off by default."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from explorer.config.build import data_frame, data_moments, langevin_step_in_data_units
from explorer.config.options import ABSENT_MEANS, GENERATOR_ONLY, PAPER_METHOD, resolve
from explorer.config.presets import preset_options
from explorer.data.datasets import make_dataset
from explorer.data.mode_width import mode_width
from explorer.errors import UserInputError
from explorer.pairs.catalogue import PAIRS_DIR
from explorer.training.run import Run
from models import CheckpointError, EnergyConfig, Generator, GeneratorAverage, GeneratorConfig, load_pair, refine

# the paper's method underneath, so that each option here is tested alone (the defaults turn several on)
RING = {**PAPER_METHOD, "dataset": "ring", "batch_size": 64, "hidden": 32}


def trained(steps, **given):
    run = Run(resolve(None, {**RING, "steps": steps, **given}))
    while not run.done:
        assert run.advance(100) > 0, run.warning
    return run


def tensors(run):
    return {**{"energy." + k: v for k, v in run.energy.state_dict().items()},
            **{"generator." + k: v for k, v in run.generator.state_dict().items()}}


def assert_identical(a: dict, b: dict):
    assert a.keys() == b.keys()
    assert not [k for k in a if not torch.equal(a[k], b[k])]


# ----------------------------------------------------------------------------- standardise


def test_the_frame_is_the_data_mean_and_pooled_std():
    ring = make_dataset("ring", modes=8, radius=1.0, std=0.01)
    centre, unit = data_frame({"standardise": True}, ring)
    # a ring centred at 0: each axis has variance radius^2 / 2 + std^2
    np.testing.assert_allclose(centre, 0.0, atol=1e-12)
    assert unit == pytest.approx(np.sqrt(0.5 + 0.01 ** 2), rel=1e-12)
    # the formula for a mixture agrees with its draws; pooled: one unit for both axes
    draws = ring.sample(200_000, np.random.default_rng(0)).astype(np.float64)
    assert unit == pytest.approx(np.sqrt(draws.var(axis=0).mean()), rel=1e-2)
    unbalanced = make_dataset("unbalanced")
    mean, variance = data_moments(unbalanced)
    draws = unbalanced.sample(200_000, np.random.default_rng(1)).astype(np.float64)
    np.testing.assert_allclose(mean, draws.mean(axis=0), atol=0.02)
    np.testing.assert_allclose(variance, draws.var(axis=0), rtol=0.02)
    # without standardise: the origin and --unit, as before
    assert data_frame({"standardise": False, "unit": 2.83}, ring) == (None, 2.83)


def test_the_method_is_scale_free_bit_for_bit():
    """A ring and the same ring 8 times larger (a power of two, so every rescaling is exact in floating
    point): the networks see identical inputs, so they train to identical weights, the samples are
    8 times larger and the energies equal, even with refined negatives and the weight average."""
    given = {"standardise": True, "refine": 3, "ema": 0.99, "langevin_step_size": 1e-3}
    small = trained(300, radius=1.0, std=0.015625, **given)
    large = trained(300, radius=8.0, std=0.125, **given)
    assert large.network_frame[1] == 8 * small.network_frame[1]
    assert_identical(tensors(small), tensors(large))
    x = small.samples(1000, 3)
    np.testing.assert_array_equal(8 * x, large.samples(1000, 3))
    with torch.no_grad():
        torch.testing.assert_close(small.energy(torch.from_numpy(x)), large.energy(torch.from_numpy(8 * x)),
                                   rtol=0, atol=0)
    # without standardise the larger ring is another problem for the same networks
    assert not torch.equal(trained(20, radius=1.0, std=0.015625).generator.net[0].weight,
                           trained(20, radius=8.0, std=0.125).generator.net[0].weight)


def test_a_ring_ten_times_larger_reaches_the_networks_as_the_same_inputs():
    """x10 is not exact in floating point: inputs agree to rounding (1e-7), and Adam, which divides
    each gradient by its own size, turns the sign of a near-zero gradient into a whole step, so two
    trainings part after a few steps; the networks' view of the data is what must agree."""
    small = Run(resolve(None, {**RING, "radius": 1.0, "std": 0.01, "standardise": True}))
    large = Run(resolve(None, {**RING, "radius": 10.0, "std": 0.1, "standardise": True}))
    assert large.network_frame[1] == pytest.approx(10 * small.network_frame[1], rel=1e-14)
    assert_identical(tensors(small), tensors(large))   # the same initial weights
    batch_small, batch_large = small._batch(), large._batch()
    torch.testing.assert_close(small.energy.to_network(batch_small), large.energy.to_network(batch_large),
                               rtol=1e-6, atol=1e-6)
    z = small.generator.sample_latent(512, torch.Generator().manual_seed(0))
    with torch.no_grad():
        x_small, x_large = small.generator(z), large.generator(z)
        torch.testing.assert_close(10 * x_small, x_large, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(small.energy(x_small), large.energy(x_large), rtol=1e-5, atol=1e-5)


def test_a_unit_given_with_standardise_is_refused_and_a_dataset_unit_gives_way():
    with pytest.raises(UserInputError, match="--unit and --standardise"):
        resolve(None, {"dataset": "ring", "standardise": True, "unit": 2.0})
    grid = resolve(None, {"dataset": "grid"})
    assert grid["standardise"] and grid["unit"] is None   # the grid's own 2.83 gives way to the data's
    assert resolve(None, {"dataset": "grid", "standardise": False})["unit"] == 2.83
    # a unit the user names is their frame: the default frame gives way to it, not the other way round
    named = resolve(None, {"dataset": "ring", "unit": 2.0})
    assert (named["standardise"], named["unit"]) == (False, 2.0)
    with pytest.raises(UserInputError, match="2-D data only"):
        Run(resolve(None, {"dataset": "digits", "standardise": True, "steps": 1}))


def test_langevin_steps_are_in_the_networks_units_with_standardise():
    options = {"langevin_step_size": 1e-3, "standardise": True}
    assert langevin_step_in_data_units(options, 10.0) == pytest.approx(0.1)    # eps * unit^2
    assert langevin_step_in_data_units({**options, "standardise": False}, 10.0) == 1e-3


def test_a_standardised_pair_saves_and_loads_its_frame(tmp_path):
    run = trained(30, radius=5.0, std=0.2, standardise=True)
    folder = str(tmp_path / "pair")
    run.save(folder)
    config = json.loads(open(os.path.join(folder, "config.json")).read())
    assert config["energy"]["centre"] == config["generator"]["centre"] == list(run.network_frame[0])
    assert config["energy"]["unit"] == run.network_frame[1] and config["options"]["standardise"] is True
    energy, generator, _ = load_pair(folder)
    assert energy.config.centre == run.network_frame[0]
    loaded = Run.from_checkpoint(folder)
    assert loaded.network_frame == run.network_frame
    np.testing.assert_array_equal(loaded.samples(200, 1), run.samples(200, 1))


def test_a_pair_whose_frame_disagrees_with_its_options_is_refused(tmp_path):
    run = trained(30, radius=5.0, std=0.2, standardise=True)
    folder = str(tmp_path / "pair")
    run.save(folder)
    path = os.path.join(folder, "config.json")
    config = json.loads(open(path).read())
    config["options"]["standardise"] = False   # the centre is no weight: strict loading alone would drop it
    config["options"]["unit"] = config["energy"]["unit"]
    open(path, "w").write(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not match"):
        Run.from_checkpoint(folder)


def test_a_huge_number_in_a_frame_is_a_clear_error():
    with pytest.raises(ValueError, match="centre"):
        EnergyConfig(centre=[10**400, 0])


def test_the_estimators_read_samples_in_the_generators_frame():
    """vera's score and mi's critic see (x - centre) / unit: a shifted, scaled frame changes nothing."""
    from models.entropy_vera import PosteriorProposal, vera_entropy
    plain = Generator(GeneratorConfig(hidden=8, noise=True))
    moved = Generator(GeneratorConfig(hidden=8, noise=True, centre=(5.0, -3.0), unit=2.0))
    moved.load_state_dict(plain.state_dict())
    z = plain.sample_latent(64, torch.Generator().manual_seed(0))
    eps = plain.sample_noise(64, torch.Generator().manual_seed(1))
    values = []
    for generator in (plain, moved):
        x = generator(z, eps)
        value = vera_entropy(generator, z, x, PosteriorProposal(4, "cpu"), torch.Generator().manual_seed(2),
                             learn=False)
        values.append(float(value.detach()))
        np.testing.assert_allclose(generator.to_network(x).detach(), plain(z, eps).detach(), atol=1e-5)
    assert values[1] == pytest.approx(values[0] + 2 * np.log(2.0), abs=1e-3)   # H(2 x + c) = H(x) + d log 2


def test_a_frame_in_a_config_is_checked():
    with pytest.raises(ValueError, match="centre"):
        EnergyConfig(centre=[1.0])
    with pytest.raises(ValueError, match="centre"):
        GeneratorConfig(centre=[0.0, float("inf")])
    with pytest.raises(ValueError, match="tanh"):
        GeneratorConfig(data_dim=64, output="tanh", centre=[0.0] * 64)
    assert "centre" not in EnergyConfig().to_dict()   # a pair in data units writes config.json as before


@pytest.mark.parametrize("name", sorted(p.name for p in PAIRS_DIR.iterdir() if (p / "config.json").exists()))
def test_shipped_pairs_load_unchanged(name):
    energy, generator, config = load_pair(str(PAIRS_DIR / name))
    run = Run.from_checkpoint(str(PAIRS_DIR / name))
    if run.options["method"] == "paper":   # saved before the frame and the refinement existed: in data units
        assert energy.config.centre is None and generator.config.centre is None
        assert (run.options["standardise"], run.options["refine"], run.options["ema"]) == (False, 0, 0.0)
    else:   # EnergyLab's method: the frame saved with the networks is the one the run uses
        assert run.options["standardise"] and run.options["refine"] > 0
        assert run.network_frame == (energy.config.centre, energy.config.unit) == (generator.config.centre,
                                                                                  generator.config.unit)
    assert run.state.ema is None and run.sampling_generator is run.generator
    assert_identical({k: v for k, v in energy.state_dict().items()}, run.energy.state_dict())
    if run.options["sampler"] == "generator" and energy.config.data_dim == 2:
        assert np.isfinite(run.samples(100, 0)).all()


# ----------------------------------------------------------------------------- refine


class Quadratic(torch.nn.Module):
    """E(x) = |x|^2 / 2: p_E = N(0, I)."""

    def forward(self, x):
        return 0.5 * (x * x).sum(dim=1)


def test_refine_samples_a_known_energy():
    """Unadjusted Langevin on E = |x|^2/2 is x <- (1 - eps/2) x + sqrt(eps) n: from any start it
    forgets it as (1 - eps/2)^K and settles at variance 1 / (1 - eps/4) (1.0025 for eps 0.01)."""
    start = torch.full((4000, 2), 3.0)   # a generator collapsed onto one point
    x = refine(Quadratic(), start, 2000, 0.01, torch.Generator().manual_seed(0))
    assert x.mean(dim=0).abs().max() < 0.06                   # 4 standard errors of 4,000 draws
    assert (x.var(dim=0) - 1 / (1 - 0.01 / 4)).abs().max() < 0.08
    again = refine(Quadratic(), start, 2000, 0.01, torch.Generator().manual_seed(0))
    assert torch.equal(x, again)
    assert refine(Quadratic(), start, 0, 0.01) is start


def test_refine_under_no_grad_and_on_a_trained_pair():
    run = trained(50, refine=5)
    with torch.no_grad():   # a caller drawing samples without gradients still refines them
        refined = run.samples(300, 2)
    raw = run.generator.sample(300, torch.Generator().manual_seed(2)).numpy()
    assert np.isfinite(refined).all() and not np.array_equal(refined, raw)


def test_refine_and_a_centred_frame_run_eager_under_compile():
    from models import compiled_step
    for given in ({"refine": 2}, {"standardise": True}):
        run = Run(resolve(None, {**RING, "steps": 5, "compile": True, **given}))
        assert compiled_step.uncovered(run.state) is not None
    run = Run(resolve(None, {**RING, "steps": 5, "compile": True, "ema": 0.9}))
    assert compiled_step.uncovered(run.state) is None   # the average is updated outside the graph


def test_refine_and_ema_apply_to_the_generator_sampler_only():
    with pytest.raises(UserInputError, match="--refine"):
        resolve(None, {"dataset": "ring", "sampler": "langevin", "refine": 5})
    with pytest.raises(UserInputError, match="--ema"):
        resolve(None, {"dataset": "ring", "sampler": "langevin", "ema": 0.9})
    # the defaults' generator-only settings are off for the Langevin sampler, not refused
    langevin = resolve(None, {"dataset": "ring", "sampler": "langevin"})
    assert all(langevin[name] == ABSENT_MEANS[name] for name in GENERATOR_ONLY)   # each at its off value


# ----------------------------------------------------------------------------- ema


def test_the_average_follows_its_formula():
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(hidden=8))
    average = GeneratorAverage(generator, decay=0.99)
    expected = {k: v.clone() for k, v in generator.state_dict().items()}
    for t in range(30):
        with torch.no_grad():   # a "step": new weights and statistics
            for p in generator.parameters():
                p.add_(torch.randn_like(p))
            for bn in generator.batchnorm_layers():
                bn.running_mean.add_(1.0)
                bn.running_var.mul_(1.5)
                bn.num_batches_tracked.add_(1)
        d = min(0.99, (1 + t) / (10 + t))   # theta_ema <- d theta_ema + (1 - d) theta
        for k, v in generator.state_dict().items():
            expected[k] = v.clone() if k.endswith("num_batches_tracked") else d * expected[k] + (1 - d) * v
        average.update(generator)
    got = average.model.state_dict()
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-5, atol=1e-6)
    assert average.current_decay() == 31 / 40   # still warming up: (1 + t) / (10 + t) at t = 30
    average.updates = 10_000
    assert average.current_decay() == 0.99      # then the decay itself


def test_the_average_samples_and_is_saved_but_never_trains(tmp_path):
    plain, averaged = trained(120), trained(120, ema=0.95)
    assert_identical(tensors(plain), tensors(averaged))   # training is untouched by its average
    assert averaged.sampling_generator is averaged.state.ema.model
    assert not np.array_equal(plain.samples(200, 1), averaged.samples(200, 1))
    folder = str(tmp_path / "pair")
    averaged.save(folder)
    _, generator, _ = load_pair(folder)
    assert_identical(generator.state_dict(), averaged.state.ema.model.state_dict())   # the saved one IS the average
    loaded = Run.from_checkpoint(folder)
    np.testing.assert_array_equal(loaded.samples(200, 1), averaged.samples(200, 1))


# ----------------------------------------------------------------------------- together, and off


def test_the_defaults_are_energylabs_method_and_the_paper_preset_turns_it_off():
    default = resolve(None, {"dataset": "ring"})
    assert (default["entropy"], default["standardise"], default["refine"], default["importance"],
            default["importance_floor"], default["uniform_negatives"], default["resample"], default["steps"]) \
        == ("knn", True, 5, 1.0, 0.2, 0.1, 4, 3000)
    options = resolve(preset_options("paper"), {"dataset": "ring"})
    assert (options["standardise"], options["refine"], options["ema"], options["unit"]) == (False, 0, 0.0, 1.0)
    assert (options["entropy"], options["importance"], options["uniform_negatives"], options["resample"],
            options["steps"]) == ("batchnorm", 0.0, 0.0, 0, 5000)
    run = Run(options)
    assert run.network_frame == (None, 1.0) and run.energy.config.centre is None
    assert run.state.config.refine == 0 and run.state.ema is None and run.sampling_generator is run.generator


def test_explicit_off_values_train_bit_identically_to_the_defaults():
    default = trained(150)
    off = trained(150, standardise=False, refine=0, ema=0.0)
    assert_identical(tensors(default), tensors(off))
    np.testing.assert_array_equal(default.samples(200, 0), off.samples(200, 0))


@pytest.mark.parametrize("given", [{"standardise": True}, {"refine": 5}, {"ema": 0.999},
                                   {"standardise": True, "refine": 5, "ema": 0.999}])
def test_a_ring_run_with_each_option_is_finite_and_deterministic(given):
    first, second = trained(300, **given), trained(300, **given)
    assert first.warning is None and all(torch.isfinite(t).all() for t in tensors(first).values())
    assert_identical(tensors(first), tensors(second))
    samples = first.samples(500, 0)
    assert np.isfinite(samples).all()
    np.testing.assert_array_equal(samples, second.samples(500, 0))
    assert first.evaluate(samples=500, resolution=80, record=False)["modes_total"] == 8


def test_the_command_line_takes_all_three(tmp_path, repo_root):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "explorer.train", "--standardise", "--refine", "10", "--ema",
                             "0.999", "--steps", "20", "--batch-size", "32", "--hidden", "16", "--quiet",
                             "--out", str(out)], cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["options"]["standardise"] and config["options"]["refine"] == 10
    assert config["options"]["ema"] == 0.999 and "centre" in config["generator"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["evaluate_seconds"] >= 0   # sampling a refined pair: its cost is reported
    result = subprocess.run([sys.executable, "-m", "explorer.evaluate", str(out), "--samples", "200"],
                            cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["modes_total"] == 8


def test_the_pullaway_term_reads_the_energys_features_in_its_own_frame():
    """EBGAN's term on f(x) must see x as E does, (x - centre) / unit: then it is scale-free too."""
    from models import DeepEnergy, entropy_estimate
    torch.manual_seed(0)
    plain = DeepEnergy(EnergyConfig(hidden=16, experts=16))
    framed = DeepEnergy(EnergyConfig(hidden=16, experts=16, unit=8.0, centre=(3.0, -5.0)))
    framed.load_state_dict(plain.state_dict())
    x = torch.randn(64, 2)
    generator = Generator(GeneratorConfig(hidden=8))
    assert torch.equal(entropy_estimate("pullaway", generator, x, plain),
                       entropy_estimate("pullaway", generator, 8.0 * x + torch.tensor([3.0, -5.0]), framed))


def test_recorded_study_runs_keep_their_keys():
    """A study's run is found by a digest of its options: the new options, at their defaults, must not
    change the keys of the runs recorded before they existed (resuming, summaries and plots). Each
    shipped study's spec, read today, names every run its folder recorded."""
    from explorer.studies.spec import Task, load_study
    folders = sorted(p for p in PAIRS_DIR.parent.glob("studies/*") if (p / "runs.jsonl").exists())
    assert folders
    old = 0
    for folder in folders:
        records = [json.loads(line) for line in (folder / "runs.jsonl").read_text().splitlines() if line.strip()]
        study = load_study(str(folder / "spec.toml"), seeds=",".join(str(r["seed"]) for r in records))
        keys = {task.key for task in study.tasks}
        assert {r["key"] for r in records} <= keys, folder.name
        old += sum("standardise" not in r["options"] for r in records)
    assert old   # some were made before the option existed
    task = study.tasks[0]   # whichever study came last: the option flipped, whatever it was there
    flipped = Task("c", "m", 0, {**task.options, "standardise": not task.options.get("standardise")}, task.samples)
    assert flipped.key != Task("c", "m", 0, dict(task.options), task.samples).key


# ----------------------------------------------------------------------------- the adapted Langevin step


def test_an_adapted_step_starts_at_the_experiments_moves_and_travels_with_the_pair(tmp_path):
    """--step-acceptance: the refinement's step starts at --langevin-step-size (in data units), adapts
    every iteration, is saved in config.json and is the step the loaded pair's samples use."""
    given = dict(radius=5.0, std=0.2, standardise=True, refine=3, step_acceptance=0.574)
    start = Run(resolve(None, {**RING, "steps": 30, **given}))
    first = langevin_step_in_data_units(start.options, start.network_frame[1])
    assert start.energy.config.langevin_step == pytest.approx(first)
    run = trained(30, **given)
    assert run.energy.config.langevin_step != pytest.approx(first)
    folder = str(tmp_path / "pair")
    run.save(folder)
    config = json.loads(open(os.path.join(folder, "config.json")).read())
    assert config["energy"]["langevin_step"] == run.energy.config.langevin_step
    loaded = Run.from_checkpoint(folder)
    assert loaded.energy.config.langevin_step == run.energy.config.langevin_step
    np.testing.assert_array_equal(loaded.samples(200, 1), run.samples(200, 1))
    # the fixed step's pairs write no such field (their config.json as before the option existed)
    plain = trained(5, radius=5.0, std=0.2, standardise=True, refine=3)
    plain.save(str(tmp_path / "plain"))
    assert "langevin_step" not in json.loads(open(str(tmp_path / "plain" / "config.json")).read())["energy"]


def test_a_finer_frame_divides_the_pooled_std_and_travels_with_the_pair(tmp_path):
    """--frame-scale k: the networks' unit is the pooled std / k (the centre unchanged); the pair keeps it."""
    dataset = make_dataset("ring", radius=5.0, std=0.2)
    centre, unit = data_frame({"standardise": True}, dataset)
    assert data_frame({"standardise": True, "frame_scale": 4.0}, dataset) == (centre, pytest.approx(unit / 4))
    run = trained(5, radius=5.0, std=0.2, standardise=True, frame_scale=4.0)
    assert run.network_frame[1] == pytest.approx(unit / 4)
    run.save(str(tmp_path / "pair"))
    assert Run.from_checkpoint(str(tmp_path / "pair")).network_frame == run.network_frame


@pytest.mark.parametrize("std", [0.01, 0.05, 0.2])
def test_the_modes_width_is_the_mixtures_component_std(std):
    """explorer/data/mode_width.py against known answers: an 8-mode ring's components have std `std`,
    whatever the ring's radius (the pooled std, 0.7 here, says nothing about it)."""
    points = make_dataset("ring", radius=1.0, std=std).sample(3000, np.random.default_rng(0))
    assert mode_width(points) == pytest.approx(std, rel=0.1)


def test_the_modes_width_of_one_gaussian_and_of_repeated_values():
    rng = np.random.default_rng(1)
    assert mode_width(rng.normal(0.0, 2.0, size=(2000, 2))) == pytest.approx(2.0, rel=0.1)
    rounded = np.round(rng.normal(0.0, 1.0, size=(500, 2)), 0)   # 500 points on a few lattice sites
    assert 0 < mode_width(rounded) < 2.0                        # a floor under each component: never 0


def test_the_mode_frame_caps_the_unit_only_where_the_modes_are_narrow():
    """--mode-frame c: unit = min(pooled std, c * mode width); wide modes keep the pooled frame."""
    narrow = make_dataset("ring", radius=1.0, std=0.01)       # pooled std 0.71: 71 widths
    centre, pooled = data_frame({"standardise": True}, narrow)
    assert data_frame({"standardise": True, "mode_frame": 20.0}, narrow) == (centre, pytest.approx(20 * 0.01, rel=0.1))
    small, large = make_dataset("ring", std=0.05), make_dataset("ring", radius=16.0, std=0.4)   # the same shape x 8
    assert (data_frame({"standardise": True, "mode_frame": 20.0}, large)[1]
            == 8 * data_frame({"standardise": True, "mode_frame": 20.0}, small)[1])   # exactly: a ratio, rounded
    wide = make_dataset("unbalanced")                          # pooled std 0.47: 2.3 widths
    assert data_frame({"standardise": True, "mode_frame": 20.0}, wide) == data_frame({"standardise": True}, wide)
