"""The pretrained pairs shipped in assets/pairs/, each made by the command line (assets/README.md)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from explorer.config.presets import PRESETS

ROOT = Path(__file__).resolve().parents[2]   # the repository: explorer/pairs/catalogue.py -> .
PAIRS_DIR = ROOT / "assets" / "pairs"
NO_ENTROPY_SUFFIX = "-no-entropy"
PAPER_SUFFIX = "-paper"   # e.g. grid-paper: the grid preset's data trained with the paper's setting


@dataclass(frozen=True)
class Pretrained:
    name: str            # folder name under assets/pairs, e.g. "ring" or "ring-no-entropy"
    folder: Path
    description: str

    @property
    def label(self) -> str:
        return f"{self.name} — {self.description}"


def _description(name: str, folder: Path) -> str:
    """The preset's words; for a twin without entropy, what its own evaluation measured: "collapse"
    only where modes (or classes) were lost."""
    preset = name.removesuffix(NO_ENTROPY_SUFFIX)
    data = preset.removesuffix(PAPER_SUFFIX)
    if preset.endswith(PAPER_SUFFIX) and data in PRESETS:   # the data of a preset, the paper's method
        text = f"the {data} preset's data, {PRESETS['paper'][0]}"
    else:
        text = PRESETS[preset][0] if preset in PRESETS else name
    if not name.endswith(NO_ENTROPY_SUFFIX):
        return text
    return f"{text} — without the entropy term: {_coverage_words(metrics(folder))}"


def _coverage_words(measured: dict) -> str:
    covered, total = measured.get("modes_covered"), measured.get("modes_total")
    if covered is None and measured.get("classes_covered") is not None:
        covered, total, kind = measured["classes_covered"], 10, "classes"
    else:
        kind = "modes"
    if covered is None or total is None:
        return "see its curves"
    if covered < total:
        return f"collapses onto {covered} of {total} {kind}"
    return f"keeps all {total} {kind}"


def pretrained_pairs() -> list[Pretrained]:
    """Every folder of assets/pairs with a config.json, in preset order (then by name)."""
    if not PAIRS_DIR.is_dir():
        return []
    order = {name: i for i, name in enumerate(PRESETS)}
    names = [p.name for p in PAIRS_DIR.iterdir() if (p / "config.json").is_file()]
    names.sort(key=lambda n: (order.get(n.removesuffix(NO_ENTROPY_SUFFIX).removesuffix(PAPER_SUFFIX), len(order)), n))
    return [Pretrained(n, PAIRS_DIR / n, _description(n, PAIRS_DIR / n)) for n in names]


def find(name: str) -> Pretrained:
    for pair in pretrained_pairs():
        if pair.name == name:
            return pair
    raise KeyError(name)


def points_path(folder: Path) -> str | None:
    """Where a pretrained points pair's data is: its saved path, read relative to the repo root."""
    with open(folder / "config.json") as f:
        saved = json.load(f).get("options", {}).get("points")
    if not saved:
        return None
    return saved if os.path.isabs(saved) else str(ROOT / saved)


def metrics(folder: Path) -> dict:
    try:
        with open(folder / "metrics.json") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k != "history"} if isinstance(data, dict) else {}
