"""Two runs side by side, identical in everything but one setting, trained live together.

The Compare view's logic: which setting differs (the entropy weight, the entropy estimator, the
sampler, or the method), the two option sets it makes from a preset, and a `Comparison` that trains both
pairs at once (each a `LiveSession`, with its own thread: on two cores they run in parallel,
since torch releases the GIL) and reads their newest frames and coverage histories. The two runs
hold one place between them on a busy machine (explorer/training/turns.py): they wait in line
together and train together.

Everything else is equal by construction: both runs start from the same seed, so the same data
stream, the same initial networks and the same latent draws, until the one setting makes them differ.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from explorer.config.options import resolve
from explorer.config.presets import PRESETS, preset_options
from explorer.errors import UserInputError
from explorer.measures.metrics import DIGIT_CLASSES
from explorer.measures.probes import Frame
from explorer.page.controls import in_page_words
from explorer.training.live import LiveSession
from explorer.training.replay import ReplayStore
from explorer.training.turns import TURNS, Turns, Waiting
from models import ESTIMATORS, SAMPLERS

DEFAULT_PRESET = "lesson"
ESTIMATOR_CHOICES = ESTIMATORS   # the Compare view offers every estimator (app.py reads this name)


@dataclass(frozen=True)
class Contrast:
    """What differs between the two runs: a label and the options of each side."""
    key: str
    label: str
    help: str


CONTRASTS = {
    "entropy": Contrast("entropy", "entropy weight 0 vs 1",
                        "left: no entropy term (w = 0, the generator only minimises E[E(G(z))]); "
                        "right: the paper's KL, w = 1"),
    "estimator": Contrast("estimator", "one entropy estimator vs another",
                          "the same weight, the entropy H(p_G) estimated two ways"),
    "sampler": Contrast("sampler", "generator vs Langevin",
                        "negative samples from the generator (no MCMC) or from persistent Langevin chains"),
    "method": Contrast("method", "the paper's method vs EnergyLab's",
                       "left: Kim & Bengio's plain negatives; right: refined, importance-weighted negatives and "
                       "resampled samples (the estimator as the preset sets it, else each method's own)"),
}


def side_options(preset: str, contrast: str, seed: int, estimators: tuple[str, str] = ("batchnorm", "knn"),
                 steps: int | None = None) -> tuple[dict, dict, tuple[str, str]]:
    """The checked options of the left and right runs, and a short name for each side.

    Both come from `preset` with `seed` (and `steps` if given); only the contrast's setting differs."""
    if preset not in PRESETS:
        raise UserInputError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    if preset == "points":
        raise UserInputError("the points preset needs a file: compare on a built-in dataset")
    if contrast not in CONTRASTS:
        raise UserInputError(f"unknown comparison {contrast!r}; choose one of: {', '.join(CONTRASTS)}")
    base = {**preset_options(preset), "seed": seed}
    if steps is not None:
        base["steps"] = steps
    if contrast == "entropy":
        weight = base.get("entropy_weight") or 1.0
        estimator = resolve(None, base)["entropy"]   # the preset's, or its method's
        if estimator == "none":
            base["entropy"] = estimator = "batchnorm"
        sides = ({"entropy_weight": 0.0}, {"entropy_weight": weight})
        names = ("entropy weight 0", f"entropy weight {weight:g} ({estimator})")
    elif contrast == "estimator":
        left, right = estimators
        for name in estimators:
            if name not in ESTIMATOR_CHOICES:
                raise UserInputError(f"unknown entropy estimator {name!r}; "
                                     f"choose one of: {', '.join(ESTIMATOR_CHOICES)}")
        if left == right:
            raise UserInputError(f"both sides use the {left} estimator: choose two different ones")
        sides = ({"entropy": left}, {"entropy": right})
        names = (f"{left} entropy", f"{right} entropy")
    elif contrast == "method":
        sides = ({"method": "paper"}, {"method": "energylab"})
        names = ("the paper's method", "EnergyLab's method")
    else:
        sides = tuple({"sampler": name} for name in SAMPLERS)   # generator, then langevin
        names = ("generator (no MCMC)", "Langevin chains (MCMC)")
    # check both through the one option table, as the command line and the main panel do
    try:
        return resolve(None, {**base, **sides[0]}), resolve(None, {**base, **sides[1]}), names
    except UserInputError as e:
        raise UserInputError(in_page_words(str(e))) from None


def coverage_key(options: dict) -> tuple[str, str]:
    """The history metric the chart shows: modes covered for mixtures, classes covered for digits."""
    if options["dataset"] == "digits":
        return "classes_covered", f"classes covered (of {DIGIT_CLASSES})"
    return "modes_covered", "modes covered"


class Comparison:
    """Two LiveSessions trained together; Stop and Train act on both."""

    def __init__(self, left: dict, right: dict, names: tuple[str, str], device: str = "auto", turns: Turns = TURNS):
        self.names = names
        self.sides = (LiveSession(device=device, turns=turns), LiveSession(device=device, turns=turns))
        for session, options, name in zip(self.sides, (left, right), names, strict=True):
            session.holder = self   # both runs in one place
            session.replay = ReplayStore(max_frames=2, max_bytes=0)   # no replay here: keep memory for the runs
            session.new_run(options)
            session.source = name
        self.started: float | None = None

    @property
    def options(self) -> dict:
        return self.sides[0].run.options

    @property
    def training(self) -> bool:
        return any(side.training for side in self.sides)

    @property
    def done(self) -> bool:
        """Nothing left to train: both finished or stopped (Train both then starts afresh)."""
        return all(side.run.done or side.ending for side in self.sides)

    @property
    def dropped(self) -> str | None:
        """Why its runs were dropped (its tab stopped reading them), if they were."""
        return next((side.closed or "dropped" for side in self.sides if side.run is None), None)

    @property
    def stopped(self) -> bool:
        return any(side.ending for side in self.sides)

    def waiting(self) -> Waiting | None:
        """The comparison's place in the line, while it waits for a place."""
        return next((w for w in (side.waiting() for side in self.sides) if w is not None), None)

    def watched(self) -> None:
        """The tab read the newest frames: its runs go on (explorer/training/live.py)."""
        for side in self.sides:
            side.watched()

    @property
    def state(self) -> str:
        if self.training:
            waiting = self.waiting()
            return waiting.words() if waiting is not None else "training"
        return "stopped" if self.stopped else ("finished" if self.done else "paused")

    def start(self) -> None:
        self.started = time.perf_counter()
        try:
            for side in self.sides:
                if not side.run.done and not side.ending:
                    side.start()
        except UserInputError:   # no half comparison
            self.pause()
            raise

    def pause(self) -> None:
        for side in self.sides:
            side.stop(wait=False)

    def end(self) -> None:
        for side in self.sides:
            side.end()

    def close(self) -> None:
        """Stop both and drop their pairs (the page is gone, or a new comparison replaces this one)."""
        for side in self.sides:
            side.close()

    def frames(self) -> tuple[tuple[Frame | None, Frame | None], tuple[int, int]]:
        latest = [side.latest() for side in self.sides]
        return (latest[0][0], latest[1][0]), (latest[0][1], latest[1][1])

    def coverage(self) -> dict:
        """name -> (steps, covered) of each side, and the total, from the runs' progress evaluations."""
        key, label = coverage_key(self.options)
        curves = {}
        for side, name in zip(self.sides, self.names, strict=True):
            with side.lock:
                rows = list(side.run.history.get(key, ()))
            curves[name] = (np.array([s for s, _ in rows], dtype=int), np.array([v for _, v in rows], dtype=float))
        return {"key": key, "label": label, "total": coverage_total(self.options), "curves": curves}


def coverage_total(options: dict) -> int:
    if options["dataset"] == "digits":
        return DIGIT_CLASSES
    if options["dataset"] in ("ring", "grid"):
        return int(options["modes"])
    return 0   # shapes without modes: no coverage to count
