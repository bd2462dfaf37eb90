"""A generator/energy pair on disk: `config.json` + `model.safetensors`, loaded strictly.

Nothing is ever unpickled: safetensors holds raw tensors only, and config.json is plain JSON.
Every tensor's name, shape and dtype must match what the config builds, or loading stops with a
message that says what differs.
"""
from __future__ import annotations

import json
import os
from dataclasses import fields

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .energy import DeepEnergy, EnergyConfig
from .generator import Generator, GeneratorConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "energylab-pair"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A folder or file that is not a valid EnergyLab pair."""


def save_pair(folder: str, energy: DeepEnergy, generator: Generator, extra: dict | None = None) -> None:
    """Write folder/config.json (model configs + `extra`) and folder/model.safetensors."""
    os.makedirs(folder, exist_ok=True)
    config = {"format": FORMAT, "version": FORMAT_VERSION,
              "energy": energy.config.to_dict(), "generator": generator.config.to_dict(), **(extra or {})}
    tensors = {f"energy.{k}": v for k, v in energy.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in generator.state_dict().items()}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with open(os.path.join(folder, CONFIG_NAME), "w") as f:
        json.dump(config, f, indent=2)
    save_file(tensors, os.path.join(folder, WEIGHTS_NAME), metadata={"format": FORMAT})


def _dataclass_from(cls, values, what: str):
    if not isinstance(values, dict):
        raise CheckpointError(f"{CONFIG_NAME}: '{what}' must be an object")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"{CONFIG_NAME}: unknown {what} settings {unknown}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{CONFIG_NAME}: bad {what} settings: {e}") from None


def read_config(folder: str) -> dict:
    """The parsed config.json of a pair folder, checked for its format marker."""
    path = os.path.join(folder, CONFIG_NAME)
    if not os.path.isdir(folder):
        raise CheckpointError(f"{folder} is not a folder")
    if not os.path.isfile(path):
        raise CheckpointError(f"{folder} is not an EnergyLab checkpoint: no {CONFIG_NAME}")
    try:
        with open(path) as f:
            config = json.load(f)
    except (ValueError, UnicodeDecodeError, OSError) as e:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an EnergyLab pair config (no \"format\": \"{FORMAT}\")")
    if config.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {config.get('version')!r}; this EnergyLab reads "
                              f"version {FORMAT_VERSION}")
    return config


def load_state_strict(module: torch.nn.Module, tensors: dict, prefix: str) -> None:
    """Load `prefix`-named tensors into module; any missing, extra or misshapen tensor is an error."""
    expected = module.state_dict()
    given = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing = sorted(set(expected) - set(given))
    extra = sorted(set(given) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{WEIGHTS_NAME}: {prefix[:-1]} tensors do not match the config"
                              + (f"; missing {missing[:5]}" if missing else "")
                              + (f"; unexpected {extra[:5]}" if extra else ""))
    for name, want in expected.items():
        got = given[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise CheckpointError(f"{WEIGHTS_NAME}: {prefix}{name} is {tuple(got.shape)} {got.dtype}, "
                                  f"the config needs {tuple(want.shape)} {want.dtype}")
    module.load_state_dict(given, strict=True)


def load_pair(folder: str, device: str = "cpu") -> tuple[DeepEnergy, Generator, dict]:
    """(energy, generator, config) from a folder written by save_pair; models in eval mode."""
    config = read_config(folder)
    energy_config = _dataclass_from(EnergyConfig, config.get("energy"), "energy")
    generator_config = _dataclass_from(GeneratorConfig, config.get("generator"), "generator")
    if energy_config.data_dim != generator_config.data_dim:
        raise CheckpointError(f"{CONFIG_NAME}: the energy reads {energy_config.data_dim}-D data but the "
                              f"generator writes {generator_config.data_dim}-D samples")
    weights = os.path.join(folder, WEIGHTS_NAME)
    if not os.path.isfile(weights):
        raise CheckpointError(f"{folder} has no {WEIGHTS_NAME}")
    try:
        tensors = load_file(weights)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights} is not a readable safetensors file: {e}") from None
    extra = sorted(k for k in tensors if not k.startswith(("energy.", "generator.")))
    if extra:
        raise CheckpointError(f"{WEIGHTS_NAME}: unexpected tensors {extra[:5]}")
    energy, generator = DeepEnergy(energy_config), Generator(generator_config)
    load_state_strict(energy, tensors, "energy.")
    load_state_strict(generator, tensors, "generator.")
    return energy.to(device).eval(), generator.to(device).eval(), config
