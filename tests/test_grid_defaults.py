"""The 5 x 5 grid's tuned defaults (benchmarks/grid_sweep.py) and the `unit` option they rely on.

No training here: the sweep's measurements are in docs/results.md and the benchmark.
"""
import json

import numpy as np
import pytest
import torch

from explorer.config.build import build_models
from explorer.config.dataset_defaults import DATASET_DEFAULTS
from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.errors import UserInputError
from explorer.training.run import Run
from models import DeepEnergy, EnergyConfig, Generator, GeneratorConfig, load_pair

# exactly the command of check-core.py's grid check, less --seed and --out
CHECK = {"dataset": "grid", "modes": 25, "spacing": 2.0, "std": 0.05, "entropy": "batchnorm", "entropy_weight": 1.0}
TUNED = DATASET_DEFAULTS["grid"]


def test_the_grid_check_command_resolves_to_the_tuned_settings():
    options = resolve(None, CHECK)
    for name, value in TUNED.items():
        if name != "unit":   # the defaults' standardised frame replaces the grid's hand-made unit
            assert options[name] == value, name
    assert options["latent_dim"] == 2 and options["generator_depth"] == 4
    assert options["standardise"] and options["unit"] is None
    paper = resolve(preset_options("paper"), {"dataset": "grid"})
    assert not paper["standardise"] and paper["unit"] == TUNED["unit"] > 1


def test_other_datasets_keep_data_units_and_their_own_defaults():
    for dataset in ("ring", "digits", "moons"):
        options = resolve(preset_options("paper"), {"dataset": dataset})
        assert options["unit"] == 1.0
        assert options["generator_depth"] == 2
    assert resolve(None, {"dataset": "ring"})["latent_dim"] == 4


def test_flags_still_override_the_grid_defaults():
    options = resolve(None, {**CHECK, "latent_dim": 8, "unit": 1.0, "generator_depth": 2})
    assert (options["latent_dim"], options["unit"], options["generator_depth"]) == (8, 1.0, 2)


def test_unit_is_a_change_of_units_of_both_networks():
    torch.manual_seed(0)
    energy, scaled_energy = DeepEnergy(EnergyConfig()), DeepEnergy(EnergyConfig(unit=2.5))
    scaled_energy.load_state_dict(energy.state_dict())
    x = torch.randn(16, 2) * 3
    # E_unit(x) = E(x / unit)
    torch.testing.assert_close(scaled_energy(x), energy(x / 2.5))
    generator, scaled_generator = Generator(GeneratorConfig()), Generator(GeneratorConfig(unit=2.5))
    scaled_generator.load_state_dict(generator.state_dict())
    z = generator.sample_latent(16, torch.Generator().manual_seed(1))
    generator.eval(), scaled_generator.eval()
    torch.testing.assert_close(scaled_generator(z), 2.5 * generator(z))


def test_unit_is_refused_for_images_and_out_of_bounds():
    with pytest.raises(UserInputError, match="2-D"):
        build_models(resolve(None, {"dataset": "digits", "unit": 2.0}), 64, "cpu")
    with pytest.raises(UserInputError, match="unit"):
        resolve(None, {"dataset": "grid", "unit": 0.0})
    with pytest.raises(ValueError):
        GeneratorConfig(data_dim=64, output="tanh", unit=2.0)


def test_unit_survives_save_and_load(tmp_path):
    run = Run(resolve(preset_options("paper"), {**CHECK, "steps": 2}))
    run.advance(2)
    run.save(str(tmp_path / "pair"))
    energy, generator, _ = load_pair(str(tmp_path / "pair"))
    assert energy.config.unit == generator.config.unit == TUNED["unit"]
    loaded = Run.from_checkpoint(str(tmp_path / "pair"))
    assert loaded.options["unit"] == TUNED["unit"]
    np.testing.assert_array_equal(loaded.samples(50, 3), run.samples(50, 3))


def test_a_pair_saved_before_unit_existed_loads_in_data_units(tmp_path):
    run = Run(resolve(None, {**CHECK, "unit": 1.0, "steps": 2}))
    run.save(str(tmp_path / "old"))
    path = tmp_path / "old" / "config.json"
    config = json.loads(path.read_text())
    del config["options"]["unit"], config["energy"]["unit"], config["generator"]["unit"]
    path.write_text(json.dumps(config))
    loaded = Run.from_checkpoint(str(tmp_path / "old"))
    assert loaded.options["unit"] == 1.0 and loaded.energy.config.unit == 1.0


def test_the_grid_preset_trains_the_grid_defaults():
    from explorer.config.presets import preset_options
    assert resolve(preset_options("grid"), {}) == resolve(None, {"dataset": "grid"})


@pytest.mark.parametrize("name", ["ring-paper", "lesson"])
def test_pairs_saved_before_the_unit_option_load_in_data_units(name):
    from explorer.pairs.catalogue import PAIRS_DIR
    with open(PAIRS_DIR / name / "config.json") as f:
        assert "unit" not in f.read()   # made before the option existed
    run = Run.from_checkpoint(str(PAIRS_DIR / name))
    assert run.options["unit"] == 1.0 and run.energy.config.unit == 1.0 and run.generator.config.unit == 1.0
    assert np.isfinite(run.samples(100, 0)).all()


@pytest.mark.parametrize("name", ["grid-paper"])
def test_the_pretrained_grid_pairs_are_made_with_the_grid_defaults(name):
    from explorer.pairs.catalogue import PAIRS_DIR
    run = Run.from_checkpoint(str(PAIRS_DIR / name))
    for option, value in TUNED.items():
        if option != "steps":   # the paper's setting needs 30,000 (assets/build.sh names them)
            assert run.options[option] == value, option
    assert run.options["steps"] == 30000
    assert np.isfinite(run.samples(100, 0)).all()


def test_choosing_a_dataset_in_the_page_resets_what_another_dataset_set():
    from explorer.page.shown_controls import dataset_changed

    def values(dataset):
        return {name: shown["value"] for name, shown in dataset_changed(dataset).items() if "value" in shown}

    grid = values("grid")
    assert (grid["latent_dim"], grid["lr_generator"], grid["batch_size"], grid["steps"]) == (
        TUNED["latent_dim"], TUNED["lr_generator"], TUNED["batch_size"], TUNED["steps"])
    ring = values("ring")   # back to the ring: the grid's steps, batch and learning rate do not stay
    assert (ring["latent_dim"], ring["lr_generator"], ring["batch_size"], ring["steps"]) == (4, 1e-3, 256, 3000)
    assert "seed" not in ring and "entropy_weight" not in ring   # what no dataset sets is left as the user had it
    # digits keep the paper's method, so leaving them brings back the 2-D method, and going to them theirs
    assert ring["method"] == "energylab" and values("digits")["method"] == "paper"
