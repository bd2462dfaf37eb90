"""The page's downloads: a figure as a standalone HTML file, the run's metric history as a CSV, each
named after what it shows (the figure, the step, the dataset) and written to the page's download
folder. The file formats are explorer/page/export.py's.
"""
from __future__ import annotations

import os

from explorer.errors import UserInputError
from explorer.page import export
from explorer.page.state import PageState

# every figure the page shows, as the export's choices (and the figures' element ids on the page)
FIGURE_VIEWS = ("landscape", "curves", "histogram", "gallery", "interpolation", "embedding")


def figure_step(state: PageState, which: str) -> int | None:
    """The step the figure shows: the replayed frame's for the landscape and histogram."""
    if which in ("landscape", "histogram"):
        frame = state.replay_cursor.shown_frame(state.live)
    else:
        frame = state.live.latest()[0]
    return frame.step if frame is not None else None


def figure_html(state: PageState, which: str, shown: list) -> tuple[str, str]:
    """The chosen figure, as the page shows it (`shown`: the figures' JSON in FIGURE_VIEWS order),
    as a standalone HTML file (plotly.js inline). Returns its path and the status note."""
    if which not in FIGURE_VIEWS:
        raise UserInputError(f"choose a figure to export: {', '.join(FIGURE_VIEWS)}")
    figure = shown[FIGURE_VIEWS.index(which)] if len(shown) == len(FIGURE_VIEWS) else None
    run = state.live.run
    name = export.export_name(which, figure_step(state, which), run.options["dataset"] if run is not None else None)
    path = export.write_figure_html(figure, export.unique_path(state.export_dir, name, "html"), title=name)
    note = f"{os.path.basename(path)} ready ({os.path.getsize(path) / 2**20:.1f} MB, plotly.js inline: opens offline)"
    return path, note


def history_csv(state: PageState) -> tuple[str, str]:
    """The run's metric history: a step column and one column per metric, blank where not
    recorded. Returns its path and the status note."""
    live = state.live
    if live.run is None:
        raise UserInputError("no run yet: choose a pair or press Train")
    with live.lock:
        history = {name: list(rows) for name, rows in live.run.history.items()}
        name = export.export_name("history", live.run.step, live.run.options["dataset"])
    if not history:
        raise UserInputError("this run has no metric history yet: train or step it first")
    path = export.write_history_csv(history, export.unique_path(state.export_dir, name, "csv"))
    rows = export.history_csv(history).count("\n") - 1
    return path, f"{os.path.basename(path)} ready ({rows:,} steps x {len(history)} metrics)"
