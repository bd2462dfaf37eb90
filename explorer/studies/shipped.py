"""The studies shipped with the app: assets/studies/<suite>/, each a folder `explorer.study` wrote.

A folder holds what the command wrote (runs.jsonl, spec.toml, summary.json, summary.md; the
plots are left out to keep the assets small) and is read back here as the spec that was run, its
records and their summary. Every shipped suite is listed, with or without results: a suite whose
folder is not there yet (the longer ones are run on a bigger machine) says so, and how to make it.

    names()      the suites, then any other folder of assets/studies/
    load(name)   a ShippedStudy (cached until its runs.jsonl changes)
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import UserInputError
from explorer.studies import engine
from explorer.studies.spec import Study, load_study, suite_names
from explorer.studies.summary import summarise

STUDIES_DIR = Path(__file__).resolve().parents[2] / "assets" / "studies"
SPEC_FILE = "spec.toml"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")   # a folder name that can be a suite's


@dataclass(frozen=True)
class ShippedStudy:
    """One shipped study: the spec as run, its records (none when not shipped yet) and their summary."""
    name: str
    study: Study
    records: tuple[dict, ...]
    summary: dict
    folder: str
    spec_seeds: tuple[int, ...]   # the seeds its spec names (the command's --seeds may have run others)

    @property
    def shipped(self) -> bool:
        return bool(self.records)

    @property
    def done(self) -> int:
        return sum(g["done"] for g in self.summary["groups"])

    @property
    def command(self) -> str:
        """The command that makes (or made) this folder, from the repository root."""
        source = self.name if self.name in suite_names() else f"assets/studies/{self.name}/{SPEC_FILE}"
        seeds = "" if self.study.seeds == self.spec_seeds else f" --seeds {seed_text(self.study.seeds)}"
        return f"python -m explorer.study {source}{seeds} --out assets/studies/{self.name}"


SUITE_ORDER = ("scoreboard", "lesson", "robustness", "smoke")   # what the tab offers first


def seed_text(seeds) -> str:
    """Seeds as the study command's --seeds takes them: '0-9' for consecutive ones, else '0,1,2,5'."""
    seeds = tuple(seeds)
    if len(seeds) > 1 and seeds == tuple(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(str(s) for s in seeds)


def names(folder: Path = STUDIES_DIR) -> list[str]:
    """The shipped suites (explorer/studies/suites), the published comparison first and the smoke
    test last, then other study folders."""
    suites = sorted(suite_names(), key=lambda n: (SUITE_ORDER.index(n) if n in SUITE_ORDER else len(SUITE_ORDER), n))
    found = sorted(p.name for p in folder.iterdir() if p.is_dir() and NAME.match(p.name)
                   and (p / SPEC_FILE).is_file()) if folder.is_dir() else []
    return suites + [name for name in found if name not in suites]


_cache: dict[tuple[str, str], tuple[float | None, ShippedStudy]] = {}


def load(name: str, folder: Path = STUDIES_DIR) -> ShippedStudy:
    """The study `name` as shipped: read once, again only when its runs.jsonl changed."""
    if not NAME.match(name or "") or name not in names(folder):
        raise UserInputError(f"unknown study {name!r}; choose one of {', '.join(names(folder))}")
    path = folder / name
    runs = path / engine.RUNS_FILE
    stamp = runs.stat().st_mtime if runs.is_file() else None
    cached = _cache.get((str(folder), name))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    shipped = _read(name, path)
    _cache[(str(folder), name)] = (stamp, shipped)
    return shipped


def _read(name: str, path: Path) -> ShippedStudy:
    records = engine.read_records(str(path))
    spec = os.fspath(path / SPEC_FILE) if (path / SPEC_FILE).is_file() else name   # else a suite not run yet
    as_written = load_study(spec)
    # the spec as it was run, over the seeds that ran (a --seeds beyond the spec's included)
    seeds = ",".join(str(s) for s in sorted({r["seed"] for r in records}))
    study = dataclasses.replace(load_study(spec, seeds) if seeds else as_written, name=name)
    return ShippedStudy(name, study, tuple(records), summarise(study, records), str(path), as_written.seeds)
