"""A study's specification: configurations x methods x seeds, read from a small TOML file.

    description = "..."
    seeds = "0-9"                      # or a list [0, 1, 2]
    samples = 2500                     # evaluation samples (PacGAN's protocol: 2,500)
    metrics = ["modes_covered", "high_quality_fraction", "reverse_kl", "nll_gap"]   # the table's columns
    [base]                             # options every run shares (any option of explorer.train)
    steps = 5000
    [configurations]                   # name -> a preset and/or options
    ring = { preset = "ring", radius = 1.0, std = 0.01 }
    [methods]                          # name -> options that make the method
    batchnorm = { entropy = "batchnorm" }
    no-entropy = { entropy_weight = 0 }
    iris = { dataset = "points", points = "bundled:iris:train", heldout = "bundled:iris:heldout" }
    [published]                        # configuration -> published tables to print beside it
    ring = ["pacgan-ring", "veegan-ring"]

Every run's options are resolved and checked when the spec is read, so a bad spec (an unknown
option, a value out of bounds, an unknown preset or suite) fails in one line before anything runs.
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from explorer.config.options import ABSENT_MEANS, OPTION_BY_NAME, check_value, resolve, whole_number
from explorer.config.presets import preset_options
from explorer.data.points import load_points
from explorer.errors import UserInputError
from explorer.studies.published import PUBLISHED

SUITES_PACKAGE = "explorer.studies.suites"
MAX_SEEDS = 10_000
MAX_RUNS = 1_000_000
DEFAULT_METRICS = ("modes_covered", "high_quality_fraction", "reverse_kl", "nll", "nll_gap", "classes_covered",
                   "class_kl_uniform")
SPEC_KEYS = {"description", "seeds", "samples", "metrics", "base", "configurations", "methods", "published"}


@dataclass(frozen=True)
class Task:
    """One run of a study: an ordinary training plus evaluation."""
    configuration: str
    method: str
    seed: int
    options: dict              # resolved and checked, as explorer.train would train them
    samples: int               # evaluation samples
    heldout: str | None = None  # points to score, as `explorer.evaluate --points` does (real data)

    @property
    def key(self) -> str:
        """Names the run and what it computes: a finished run with the same key is not run again.
        Options added after runs were first recorded (ABSENT_MEANS) count only when not at the value
        they had before they existed (off), so a run recorded before them keeps its key: a study
        resumes, and its summary and plots still find it. `method` names settings that are all among
        the options, so it adds nothing to what a run computes and is left out."""
        options = {name: value for name, value in self.options.items()
                   if not (name in ABSENT_MEANS and value == ABSENT_MEANS[name]) and name != "method"}
        computed = {**options, **({"heldout": self.heldout} if self.heldout else {})}
        digest = hashlib.sha1(json.dumps(computed, sort_keys=True).encode()).hexdigest()[:10]
        return f"{self.configuration}/{self.method}/seed{self.seed}/{digest}/samples{self.samples}"


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    tasks: tuple[Task, ...]
    configurations: tuple[str, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    metrics: tuple[str, ...] = DEFAULT_METRICS
    published: dict = field(default_factory=dict)
    text: str = ""             # the spec as read, copied into the study's folder


def suite_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(SUITES_PACKAGE).iterdir() if p.name.endswith(".toml"))


def parse_seeds(value) -> tuple[int, ...]:
    """'0-9', '0,3,5', 7 or [0, 1, 2] -> a tuple of distinct seeds in order."""
    if isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = []
        for part in value.replace(" ", "").split(","):
            low, dash, high = part.partition("-")
            try:
                items += list(range(int(low), int(high) + 1)) if dash else [int(low)]
            except ValueError:
                raise UserInputError(f"seeds must look like 0-9 or 0,3,5; got {value!r}") from None
    else:
        raise UserInputError(f"seeds must be a range like '0-9' or a list of whole numbers; got {value!r}")
    seeds = tuple(dict.fromkeys(check_value("seed", s) for s in items))
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise UserInputError(f"a study takes 1 to {MAX_SEEDS} seeds; got {len(seeds)}")
    return seeds


def read_spec(source: str) -> tuple[str, str]:
    """A suite's name or a path to a .toml file -> (name, text)."""
    if source in suite_names():
        return source, resources.files(SUITES_PACKAGE).joinpath(f"{source}.toml").read_text()
    if source.endswith(".toml") or os.sep in source:
        try:
            with open(source, encoding="utf-8") as f:
                return os.path.splitext(os.path.basename(source))[0], f.read()
        except OSError as e:
            raise UserInputError(f"{source}: cannot read the study file ({e.strerror or e})") from None
    raise UserInputError(f"unknown suite {source!r}; choose one of {', '.join(suite_names())} or give a .toml file")


def _table(spec: dict, key: str, where: str) -> dict:
    value = spec.get(key, {})
    if not isinstance(value, dict):
        raise UserInputError(f"{where}: [{key}] must be a table")
    return value


def _options_of(entry, where: str) -> tuple[str | None, dict]:
    if not isinstance(entry, dict):
        raise UserInputError(f"{where} must be a table of options, got {entry!r}")
    entry = dict(entry)
    preset = entry.pop("preset", None)
    entry.pop("heldout", None)   # the configuration's held-out points: not a training option
    unknown = [k for k in entry if k not in OPTION_BY_NAME]
    if unknown:
        raise UserInputError(f"{where}: unknown option {unknown[0]!r} (the options of explorer.train, with _)")
    if "seed" in entry:
        raise UserInputError(f"{where}: seeds are the study's own (seeds = ...), not an option")
    return preset, entry


def load_study(source: str, seeds: str | None = None) -> Study:
    """Read, expand and check a study (a suite's name or a .toml path); `seeds` overrides the spec's."""
    name, text = read_spec(source)
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserInputError(f"{name}: not valid TOML ({e})") from None
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise UserInputError(f"{name}: unknown key {unknown[0]!r}; a study has {', '.join(sorted(SPEC_KEYS))}")
    base_preset, base = _options_of(_table(spec, "base", name), f"{name} [base]")
    configurations = _table(spec, "configurations", name) or {"default": {}}
    methods = _table(spec, "methods", name) or {"default": {}}
    seed_list = parse_seeds(seeds if seeds is not None else spec.get("seeds", "0-4"))
    samples = whole_number(spec.get("samples", 2500), "samples", 10, 1_000_000)
    metrics = spec.get("metrics", list(DEFAULT_METRICS))
    if not (isinstance(metrics, list) and metrics and all(isinstance(m, str) for m in metrics)):
        raise UserInputError(f"{name}: metrics must be a list of metric names")
    published = _table(spec, "published", name)
    for configuration, tables in published.items():
        missing = [t for t in tables if t not in PUBLISHED]
        if configuration not in configurations or missing:
            raise UserInputError(f"{name} [published]: {configuration!r} -> {tables!r} names an unknown "
                                 f"configuration or table (tables: {', '.join(PUBLISHED)})")
    if len(configurations) * len(methods) * len(seed_list) > MAX_RUNS:
        raise UserInputError(f"{name}: more than {MAX_RUNS:,} runs")
    tasks = []
    for configuration, entry in configurations.items():
        preset, given = _options_of(entry, f"{name} [configurations] {configuration}")
        heldout = entry.get("heldout")
        if heldout is not None:
            check_heldout(heldout, f"{name} [configurations] {configuration}")
        for method, method_entry in methods.items():
            method_preset, method_given = _options_of(method_entry, f"{name} [methods] {method}")
            chosen = method_preset or preset or base_preset
            for seed in seed_list:
                try:
                    options = dict(resolve(preset_options(chosen), {**base, **given, **method_given, "seed": seed}))
                except UserInputError as e:
                    raise UserInputError(f"{name}: {configuration} x {method}: {e}") from None
                tasks.append(Task(configuration, method, seed, options, samples, heldout))
    return Study(name=name, description=str(spec.get("description", "")), tasks=tuple(tasks),
                 configurations=tuple(configurations), methods=tuple(methods), seeds=seed_list,
                 metrics=tuple(metrics), published={k: list(v) for k, v in published.items()}, text=text)


def check_heldout(heldout, where: str) -> None:
    """Held-out points are read when the spec is, so a bad name fails before anything runs."""
    if not isinstance(heldout, str):
        raise UserInputError(f"{where}: heldout must name points (a file or bundled:NAME:heldout)")
    load_points(heldout)
