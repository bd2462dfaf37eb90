"""A generator/energy pair on disk: `config.json` + `model.safetensors`, loaded strictly.

Nothing is ever unpickled: safetensors holds raw tensors only, and config.json is plain JSON.
Every tensor's name, shape and dtype must match what the config builds, or loading stops with a
message that says what differs.
"""
from __future__ import annotations

import json
import math
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
# limits checked before anything is allocated: a config or a file from a stranger cannot ask for
# more (the shipped pairs hold under 1 M parameters, the largest app setting about 13 M)
MAX_PARAMETERS = 16_000_000          # both networks together, float32: 64 MiB
MAX_CONFIG_BYTES = 1 * 2**20
MAX_HEADER_BYTES = 1 * 2**20         # a safetensors JSON header; real ones are a few kB
SAFETENSORS_DTYPES = {"F32": torch.float32, "I64": torch.int64}   # what save_pair writes (I64: BN step counts)


class CheckpointError(ValueError):
    """A folder or file that is not a valid EnergyLab pair."""


def save_pair(folder: str, energy: DeepEnergy, generator: Generator, extra: dict | None = None) -> None:
    """Write folder/config.json (model configs + `extra`) and folder/model.safetensors."""
    os.makedirs(folder, exist_ok=True)
    config = {"format": FORMAT, "version": FORMAT_VERSION,
              "energy": energy.config.to_dict(), "generator": generator.config.to_dict(), **(extra or {})}
    tensors = {f"energy.{k}": v for k, v in energy.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in generator.state_dict().items()}
    # a copy of each: trained parameters are views into one flat buffer (models/flat_adam.py), and
    # safetensors refuses tensors that share memory
    tensors = {k: v.detach().cpu().clone(memory_format=torch.contiguous_format) for k, v in tensors.items()}
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
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{path} is {os.path.getsize(path):,} bytes; a pair's config is at most "
                              f"{MAX_CONFIG_BYTES:,}")
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


def expected_tensors(energy_config: EnergyConfig, generator_config: GeneratorConfig) -> dict:
    """name -> (shape, dtype) of every tensor the configs' networks hold, found on torch's "meta"
    device (shapes only, no memory), and refused when the networks would be too large."""
    with torch.device("meta"):
        modules = {"energy.": DeepEnergy(energy_config), "generator.": Generator(generator_config)}
    expected = {prefix + name: (tuple(t.shape), t.dtype)
                for prefix, module in modules.items() for name, t in module.state_dict().items()}
    count = sum(math.prod(shape) for shape, _ in expected.values())
    if count > MAX_PARAMETERS:
        raise CheckpointError(f"{CONFIG_NAME}: these networks hold {count:,} numbers; at most "
                              f"{MAX_PARAMETERS:,} are accepted")
    return expected


def check_weights_file(path: str, expected: dict) -> None:
    """Read only the safetensors header (8-byte length + JSON) and check every tensor's name,
    dtype, shape and byte range against `expected` and the file's real size, before any tensor is
    read: a header that claims gigabytes, a truncated file, or another network is refused here."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise CheckpointError(f"{WEIGHTS_NAME} is {size} bytes: too short to be a safetensors file")
        header_bytes = int.from_bytes(prefix, "little")
        if header_bytes > MAX_HEADER_BYTES or 8 + header_bytes > size:
            raise CheckpointError(f"{WEIGHTS_NAME}: its header claims {header_bytes:,} bytes in a file of "
                                  f"{size:,}: not a safetensors file EnergyLab wrote")
        try:
            header = json.loads(f.read(header_bytes))
        except (ValueError, UnicodeDecodeError):
            raise CheckpointError(f"{WEIGHTS_NAME}: its header is not JSON: not a safetensors file") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{WEIGHTS_NAME}: its header is not a JSON object")
    header.pop("__metadata__", None)
    missing, extra = sorted(set(expected) - set(header)), sorted(set(header) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{WEIGHTS_NAME}: its tensors do not match the config"
                              + (f"; missing {missing[:5]}" if missing else "")
                              + (f"; unexpected {extra[:5]}" if extra else ""))
    data_bytes = size - 8 - header_bytes
    for name, (shape, dtype) in expected.items():
        entry = header[name]
        try:
            got_dtype, got_shape, (start, end) = entry["dtype"], tuple(entry["shape"]), entry["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise CheckpointError(f"{WEIGHTS_NAME}: {name} has a malformed header entry") from None
        if SAFETENSORS_DTYPES.get(got_dtype) != dtype or got_shape != shape:
            raise CheckpointError(f"{WEIGHTS_NAME}: {name} is {got_shape} {got_dtype}, the config needs "
                                  f"{shape} {str(dtype).removeprefix('torch.')}")
        if not (isinstance(start, int) and isinstance(end, int)
                and 0 <= start <= end <= data_bytes and end - start == dtype.itemsize * math.prod(shape)):
            raise CheckpointError(f"{WEIGHTS_NAME}: {name}'s bytes {start}-{end} do not fit the file "
                                  f"({data_bytes:,} data bytes): truncated or forged")


def load_pair(folder: str, device: str = "cpu") -> tuple[DeepEnergy, Generator, dict]:
    """(energy, generator, config) from a folder written by save_pair; models in eval mode.

    Order matters: the config is checked (sizes bounded) and the weights file's header matched
    against it before a single tensor is read or a network allocated."""
    config = read_config(folder)
    energy_config = _dataclass_from(EnergyConfig, config.get("energy"), "energy")
    generator_config = _dataclass_from(GeneratorConfig, config.get("generator"), "generator")
    if energy_config.data_dim != generator_config.data_dim:
        raise CheckpointError(f"{CONFIG_NAME}: the energy reads {energy_config.data_dim}-D data but the "
                              f"generator writes {generator_config.data_dim}-D samples")
    weights = os.path.join(folder, WEIGHTS_NAME)
    if not os.path.isfile(weights):
        raise CheckpointError(f"{folder} has no {WEIGHTS_NAME}")
    expected = expected_tensors(energy_config, generator_config)
    check_weights_file(weights, expected)
    try:
        tensors = load_file(weights)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights} is not a readable safetensors file: {e}") from None
    broken = sorted(k for k, t in tensors.items() if not torch.isfinite(t).all())
    if broken:
        raise CheckpointError(f"{WEIGHTS_NAME}: {', '.join(broken[:3])} hold NaN or infinite numbers; "
                              "a diverged pair cannot be shown")
    energy, generator = DeepEnergy(energy_config), Generator(generator_config)
    load_state_strict(energy, tensors, "energy.")
    load_state_strict(generator, tensors, "generator.")
    return energy.to(device).eval(), generator.to(device).eval(), config
