"""Points a page brings (an uploaded file, a drawing, a pair's points file): read once, kept by the page.

A points file is parsed and standardised when it arrives, as the `points` dataset reads one
(explorer/data/datasets.py, make_dataset), so that a bad file is reported at once; the Dataset is
kept in the page's state and handed to every run trained on it. Its path is still what the
options, and so a saved pair's config.json, record.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from explorer.config.options import Experiment, resolve
from explorer.config.presets import preset_options
from explorer.data import drawing
from explorer.data.datasets import Dataset, load_points, points_dataset
from explorer.page import controls, export

if TYPE_CHECKING:
    from explorer.page.state import PageState


@dataclass(frozen=True)
class PagePoints:
    """A points file, read: where it is (what config.json records) and its dataset, standardised."""
    path: str
    dataset: Dataset
    count: int


def read_points(path) -> PagePoints:
    """Parse and standardise a points file once (UserInputError saying what is wrong with it)."""
    raw = load_points(path)
    return PagePoints(str(path), points_dataset(raw), len(raw))


def points_for(options: Experiment, points: PagePoints | None) -> Dataset | None:
    """The page's read points when `options` train on that file, else None (the run builds its data)."""
    if points is not None and options["dataset"] == "points" and options["points"] == points.path:
        return points.dataset
    return None


def upload(state: PageState, path: str) -> str:
    """An uploaded points file becomes the page's points; returns the status note."""
    state.points = read_points(path)   # read now, so a bad file is reported at once
    return f"{state.points.count:,} points loaded from {os.path.basename(path)}; press Train"


def use_drawing(state: PageState, drawn, seed) -> tuple[Experiment, str]:
    """The canvas's points become the points dataset: saved as a CSV (the file of record), read
    back once like any upload, and a new run from the points preset with the controls' seed.
    Returns the run's options and the status note."""
    drawn_points = drawing.parse_drawing(drawn)
    seed = controls.whole_number(seed, "seed")
    path = drawing.save_points(drawn_points, export.unique_path(state.export_dir, "drawn-points", "csv"))
    options = resolve(preset_options("points"), {"points": path, "seed": seed})
    # as the controls will hold them (the preset's lr_decay has no control): what Train runs next
    options = controls.options_from_controls(controls.controls_from_options(options), path)
    points = read_points(path)
    state.live.new_run(options, dataset=points_for(options, points))
    state.points = points
    return options, f"{len(drawn_points):,} drawn points: a new run with the points preset; press Train or Step"
