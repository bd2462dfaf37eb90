"""From resolved options (explorer/config/options.py) to the objects they describe: data, networks, config."""
from __future__ import annotations

import numpy as np
import torch

from explorer.data.datasets import Dataset, make_dataset
from explorer.errors import UserInputError
from models import NOISY_ESTIMATORS, DeepEnergy, EnergyConfig, Generator, GeneratorConfig, LangevinConfig, TrainConfig


def build_dataset(options: dict) -> Dataset:
    name = options["dataset"]
    params = {"modes": options["modes"], "radius": options["radius"], "spacing": options["spacing"],
              "std": options["std"], "points_path": options["points"]}
    return make_dataset(name, **{k: v for k, v in params.items() if v is not None})


def model_configs(options: dict, data_dim: int) -> tuple[EnergyConfig, GeneratorConfig]:
    images = data_dim > 2
    unit = options.get("unit") or 1.0   # pairs saved before the option existed: data units
    if images and unit != 1.0:
        raise UserInputError("--unit applies to 2-D data only (images already lie in [-1, 1])")
    energy_width = options["energy_hidden"] or options["hidden"]
    energy = EnergyConfig(data_dim=data_dim, hidden=energy_width, experts=energy_width,
                          extractor=options["extractor"] if images else "mlp",
                          # digits live in [-1, 1]: a wide prior would only be a nuisance there
                          use_prior=not images, unit=unit)
    generator = GeneratorConfig(data_dim=data_dim, latent_dim=options["latent_dim"], hidden=options["hidden"],
                                depth=options["generator_depth"], output="tanh" if images else "linear", unit=unit,
                                # VERA's estimator needs a generator with learned output noise (models/entropy_vera.py)
                                noise=options["entropy"] in NOISY_ESTIMATORS)
    return energy, generator


def train_config(options: dict, dataset: Dataset) -> TrainConfig:
    # Langevin chains (re)start from uniform noise over the data's box ([-1, 1] for digits)
    low, high = (min(dataset.bounds), max(dataset.bounds)) if dataset.bounds else (-1.0, 1.0)
    return TrainConfig(
        sampler=options["sampler"], entropy=options["entropy"], entropy_weight=options["entropy_weight"],
        lr_energy=options["lr_energy"], lr_generator=options["lr_generator"],
        compile=bool(options.get("compile", False)),   # options built before the setting existed: eager
        langevin=LangevinConfig(steps=options["langevin_steps"], step_size=options["langevin_step_size"],
                                init_low=low, init_high=high))


def build_models(options: dict, data_dim: int, device: str) -> tuple[DeepEnergy, Generator]:
    """Fresh networks, initialised from the experiment's seed."""
    energy_config, generator_config = model_configs(options, data_dim)
    torch.manual_seed(options["seed"])  # weight initialisation is the one draw not from our own stream
    return DeepEnergy(energy_config).to(device), Generator(generator_config).to(device)


def pick_device(name: str) -> str:
    """'auto' -> cuda when present, else cpu; 'cuda' without a GPU is a clear error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserInputError("--device cuda was asked for, but no CUDA GPU is available; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise UserInputError(f"--device must be auto, cpu or cuda; got {name!r}")
    return name


def data_record(dataset: Dataset) -> dict:
    """What config.json keeps about the data beyond the options: the plot box and, for user
    points, the standardisation, so held-out points can be mapped the same way."""
    record = {"dim": dataset.dim, "bounds": list(dataset.bounds) if dataset.bounds else None}
    if dataset.offset is not None:
        record["offset"] = np.asarray(dataset.offset, dtype=float).tolist()
        record["scale"] = np.asarray(dataset.scale, dtype=float).tolist()
    return record
