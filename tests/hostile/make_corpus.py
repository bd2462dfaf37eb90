"""Writes the hostile and broken files that tests/test_hostile.py feeds to EnergyLab.

    python -m tests.hostile.make_corpus     # (re)writes tests/hostile/pairs/ and tests/hostile/points/

Each pair file is a .zip as the app's "upload a pair" accepts; each points file is what the points
upload accepts. Every one must be refused with a clear message (or, for points, accepted within
the stated limits), with no code run and no memory spike. The files are small (a zip bomb is
200 MiB of zeros deflated to about 200 kB), so they are committed; this script documents how.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import random
import struct
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

import torch  # noqa: E402

from models import DeepEnergy, EnergyConfig, Generator, GeneratorConfig, save_pair  # noqa: E402

RANDOM = random.Random(0)   # the "random" files are the same every time the corpus is written
MARKER = "ENERGYLAB-UNPICKLED"   # a pickle in the corpus creates this file if it is ever unpickled


class _OpenMarker:
    """Unpickling this calls open(MARKER, "w"): proof that a file was unpickled."""
    def __reduce__(self):
        return (open, (MARKER, "w"))


def _pair_bytes(hidden: int = 16) -> tuple[bytes, bytes]:
    """config.json and model.safetensors of a small, valid 2-D pair (made like the app's)."""
    torch.manual_seed(0)
    energy = DeepEnergy(EnergyConfig(data_dim=2, hidden=hidden, experts=hidden))
    generator = Generator(GeneratorConfig(data_dim=2, latent_dim=2, hidden=hidden))
    options = {"dataset": "ring", "modes": 8, "radius": 2.0, "std": 0.05, "hidden": hidden, "latent_dim": 2}
    with tempfile.TemporaryDirectory() as folder:
        save_pair(folder, energy, generator, {"options": options, "step": 0})
        with open(os.path.join(folder, "config.json"), "rb") as f:
            config = f.read()
        with open(os.path.join(folder, "model.safetensors"), "rb") as f:
            weights = f.read()
    return config, weights


def _zip(path: str, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)


def _with_header(weights: bytes, edit) -> bytes:
    """The weights file with its JSON header changed by `edit(header) -> header`."""
    length = struct.unpack("<Q", weights[:8])[0]
    header = edit(json.loads(weights[8:8 + length]))
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + weights[8 + length:]


def _nan_weights(config: bytes, weights: bytes) -> bytes:
    from safetensors.torch import load, save
    tensors = load(weights)
    first = sorted(k for k, v in tensors.items() if v.dtype == torch.float32)[0]
    tensors[first] = tensors[first].clone()
    tensors[first].view(-1)[0] = float("nan")
    return save(tensors, metadata={"format": "energylab-pair"})


def pairs(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    config, weights = _pair_bytes()
    cfg = json.loads(config)
    corpus = {
        # a pickle renamed .safetensors: loading must never unpickle it
        "pickle-as-safetensors": {"config.json": config, "model.safetensors": pickle.dumps(_OpenMarker())},
        "torch-save-as-safetensors": {"config.json": config,
                                      "model.safetensors": _torch_save_bytes()},
        # 200 MiB of zeros in 200 kB: refused from its stated size, and inflating stops at the bound
        "zip-bomb": {"config.json": config, "model.safetensors": bytes(200 * 2**20)},
        "truncated-weights": {"config.json": config, "model.safetensors": weights[: len(weights) // 2]},
        "header-claims-gigabytes": {"config.json": config,
                                    "model.safetensors": struct.pack("<Q", 2**40) + weights[8:]},
        "header-claims-huge-tensor": {"config.json": config, "model.safetensors": _with_header(
            weights, lambda h: {**h, "energy.prior_linear": {"dtype": "F32", "shape": [100000, 100000],
                                                             "data_offsets": [0, 40_000_000_000]}})},
        "wrong-shapes": {"config.json": config, "model.safetensors": _pair_bytes(hidden=8)[1]},
        "wrong-dtype": {"config.json": config, "model.safetensors": _with_header(
            weights, lambda h: {k: ({**v, "dtype": "F64"} if isinstance(v, dict) and v.get("dtype") == "F32" else v)
                                for k, v in h.items()})},
        "nan-weights": {"config.json": config, "model.safetensors": _nan_weights(config, weights)},
        "huge-layers": {"config.json": json.dumps({**cfg, "energy": {**cfg["energy"], "hidden": 4096,
                                                                     "depth": 4096}}).encode(),
                        "model.safetensors": weights},
        "huge-widths": {"config.json": json.dumps({**cfg, "energy": {**cfg["energy"], "hidden": 4096, "experts": 4096,
                                                                     "depth": 16}}).encode(),
                        "model.safetensors": weights},
        "config-not-json": {"config.json": b"{not json", "model.safetensors": weights},
        "config-not-a-pair": {"config.json": b'{"hello": "world"}', "model.safetensors": weights},
        "config-huge": {"config.json": json.dumps({**cfg, "padding": "x" * (3 * 2**20)}).encode(),
                        "model.safetensors": weights},
        "weights-missing": {"config.json": config},
        "path-traversal": {"config.json": config, "model.safetensors": weights, "../../escaped.txt": b"owned"},
        "absolute-path": {"config.json": config, "/tmp/energylab-absolute.txt": b"owned"},
        "nested-folder": {"pair/config.json": config, "pair/model.safetensors": weights},
        "too-many-members": {f"points{i}.csv": b"1,2\n" for i in range(20)},
    }
    for name, members in corpus.items():
        _zip(os.path.join(folder, name + ".zip"), members)
    with open(os.path.join(folder, "not-a-zip.zip"), "wb") as f:
        f.write(RANDOM.randbytes(4096))
    with open(os.path.join(folder, "empty.zip"), "wb") as f:
        pass


def _torch_save_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"energy.prior_linear": _OpenMarker()}, buffer)
    return buffer.getvalue()


def points(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    rows = "\n".join(f"{i * 0.1:.3f},{(i % 7) * 0.2:.3f}" for i in range(40))
    files = {
        "text.csv": b"x,y\nhello,world\nfoo,bar\n",
        "missing-values.csv": (rows + "\n1.0,\n").encode(),
        "infinity.csv": (rows + "\ninf,1.0\n").encode(),
        "nan.csv": (rows + "\nnan,1.0\n").encode(),
        "huge-number.csv": (rows + "\n1e400,1.0\n").encode(),
        "one-column.csv": "\n".join(str(i) for i in range(40)).encode(),
        "three-columns.csv": "\n".join(f"{i},{i},{i}" for i in range(40)).encode(),
        "empty.csv": b"",
        "header-only.csv": b"x,y\n",
        "too-few.csv": b"1,2\n3,4\n",
        "binary.csv": RANDOM.randbytes(2048).replace(b"\x00", b"\x01") + b"\x00",
        "latin1.csv": "x,y\n1,2\n\xe9,3\n".encode("latin-1"),
        "pickle.npy": pickle.dumps(_OpenMarker()),
        "object-array.npy": _npy_object(),
        "three-d.npy": _npy(__import__("numpy").zeros((10, 2, 2))),
        "complex.npy": _npy(__import__("numpy").zeros((40, 2), dtype=complex)),
    }
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def _npy(array) -> bytes:
    import numpy as np
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_object() -> bytes:
    import numpy as np
    buffer = io.BytesIO()
    np.save(buffer, np.array([_OpenMarker(), None], dtype=object), allow_pickle=True)
    return buffer.getvalue()


if __name__ == "__main__":
    pairs(os.path.join(HERE, "pairs"))
    points(os.path.join(HERE, "points"))
    print("wrote", HERE)
