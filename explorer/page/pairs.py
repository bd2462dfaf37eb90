"""Pairs a page shows or hands out: a pretrained pair, an uploaded one, the current pair as a zip."""
from __future__ import annotations

import os

from explorer.errors import UserInputError, expected_errors
from explorer.page.points import read_points
from explorer.page.state import PageState
from explorer.pairs import catalogue
from explorer.pairs import files as pair_files
from explorer.training.run import Run


def show_pretrained(state: PageState, name: str) -> Run:
    """The catalogue's pair `name` becomes the page's pair (KeyError: no such pair); a run waiting
    in line keeps its place meanwhile (PageState.step_aside)."""
    pair = catalogue.find(name)
    state.step_aside()
    return state.live.load(str(pair.folder), f"pretrained: {pair.name}", catalogue.points_path(pair.folder))


def load_upload(state: PageState, files) -> Run:
    """Uploaded file(s), a pair's zip or its loose files, become the page's pair; a points file
    among them is read once and becomes the page's points. Errors name the files, not the
    server's temporary folder."""
    paths = [files] if isinstance(files, str) else list(files)
    folder, points_path = pair_files.unpack_upload(paths)
    state.end_aside()
    try:
        points = read_points(points_path) if points_path else None
        run = state.live.load(folder, f"uploaded: {os.path.basename(paths[0])}", points_path,
                              points=points.dataset if points else None)
    except expected_errors() as e:
        raise UserInputError(str(e).replace(folder + os.sep, "")) from None
    if points:
        state.points = points
    return run


def download_zip(state: PageState) -> str:
    """The current pair as a zip in the page's download folder; returns its path."""
    live = state.live
    if live.run is None:
        raise UserInputError("nothing to download yet")
    with live.lock:
        name = f"energylab-{live.run.options['dataset']}-step{live.run.step}"
        return pair_files.export_zip(live.run, state.export_dir, name)
