"""A pair as one file: download it as a zip, upload a zip (or its loose files) back, safely.

A zip from a stranger is checked before anything is written: only the known file names, no
folders or links, bounded sizes. The pair itself is then loaded strictly (models/checkpoint.py):
safetensors and JSON only, nothing is ever unpickled.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

from models import CheckpointError

CONFIG, WEIGHTS, METRICS = "config.json", "model.safetensors", "metrics.json"
POINTS_NAMES = ("points.csv", "points.npy")
ALLOWED = {CONFIG, WEIGHTS, METRICS, *POINTS_NAMES}
MAX_MEMBER_BYTES = 64 * 2**20    # the pairs are small by design; this bounds a zip bomb
MAX_MEMBERS = 8


def export_zip(run, folder: str, name: str) -> str:
    """Write the run's pair (+ metric history, + its points for a points pair) to folder/name.zip."""
    staging = tempfile.mkdtemp(prefix="energylab-export-")
    try:
        run.save(staging)
        with open(os.path.join(staging, METRICS), "w") as f:
            json.dump({"step": run.step, "history": run.history_record()}, f)
        points = run.options.get("points")
        if points and os.path.isfile(points):
            suffix = ".npy" if Path(points).suffix.lower() == ".npy" else ".csv"
            shutil.copyfile(points, os.path.join(staging, "points" + suffix))
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, name + ".zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in sorted(os.listdir(staging)):
                archive.write(os.path.join(staging, entry), entry)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def unpack_upload(paths: list[str]) -> tuple[str, str | None]:
    """Uploaded file(s) -> (folder holding config.json + model.safetensors, points file or None).

    Accepts one .zip made by export_zip, or the loose files themselves. Raises CheckpointError
    with a one-line reason for anything else."""
    if not paths:
        raise CheckpointError("no file was uploaded")
    folder = tempfile.mkdtemp(prefix="energylab-upload-")
    if len(paths) == 1 and zipfile.is_zipfile(paths[0]):
        _extract(paths[0], folder)
    elif len(paths) == 1 and Path(paths[0]).suffix.lower() == ".zip":
        raise CheckpointError(f"{Path(paths[0]).name} is not a readable zip file")
    else:
        for path in paths:
            name = Path(path).name
            if name not in ALLOWED:
                raise CheckpointError(f"unexpected file {name!r}: upload a pair's .zip, or its {CONFIG} and {WEIGHTS}")
            shutil.copyfile(path, os.path.join(folder, name))
    missing = [n for n in (CONFIG, WEIGHTS) if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        raise CheckpointError(f"not an EnergyLab pair: {' and '.join(missing)} missing")
    points = next((os.path.join(folder, n) for n in POINTS_NAMES if os.path.isfile(os.path.join(folder, n))), None)
    return folder, points


def _extract(path: str, folder: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise CheckpointError(f"the zip holds {len(members)} files; a pair has at most {MAX_MEMBERS}")
            for member in members:
                name = member.filename
                if member.is_dir() or "/" in name or "\\" in name or name not in ALLOWED:
                    raise CheckpointError(f"unexpected entry {name!r} in the zip; "
                                          f"a pair holds only {', '.join(sorted(ALLOWED))}")
                if member.file_size > MAX_MEMBER_BYTES:
                    raise CheckpointError(f"{name} is {member.file_size / 2**20:.0f} MiB uncompressed; "
                                          f"at most {MAX_MEMBER_BYTES // 2**20} MiB")
                with archive.open(member) as source, open(os.path.join(folder, name), "wb") as target:
                    _bounded_copy(source, target, name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as e:
        raise CheckpointError(f"{Path(path).name} is not a readable zip file: {e}") from None


def _bounded_copy(source, target, name: str, chunk: int = 2**20) -> None:
    """Copy at most MAX_MEMBER_BYTES: a zip's stated sizes can lie (a zip bomb), so the bytes
    actually inflated are counted, and writing stops at the bound."""
    written = 0
    while True:
        block = source.read(chunk)
        if not block:
            return
        written += len(block)
        if written > MAX_MEMBER_BYTES:
            raise CheckpointError(f"{name} inflates past {MAX_MEMBER_BYTES // 2**20} MiB: refused (a zip bomb?)")
        target.write(block)
