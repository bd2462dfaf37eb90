"""Exports: a run's metric history as CSV, and a figure as a standalone HTML file.

The HTML carries plotly.js inline (from the installed plotly package), so the file opens and
stays interactive offline: nothing is fetched from the web. PNGs are drawn by the browser
(Plotly.downloadImage on the chart the page shows; explorer/ui/static/export_png.js), since plotly's server-side image
export needs kaleido and a Chrome, which a Hugging Face Space does not have.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

import plotly.io as pio

from explorer.errors import UserInputError

MAX_FIGURE_CHARS = 30_000_000   # a figure the page shows is well under this (a fine landscape is ~1 MB)


# ---------------------------------------------------------------------------- metric history
def history_csv(history: dict) -> str:
    """CSV text of a metric history {name: [(step, value), ...]}: a `step` column, then one
    column per metric (sorted by name), one row per step that any metric was recorded at, blank
    where a metric was not. Values are written in full (repr), so they read back exactly; when a
    metric has two values at one step, the later one is written."""
    names = sorted(history)
    table: dict[int, dict[str, float]] = {}
    for name in names:
        for step, value in history[name]:
            table.setdefault(int(step), {})[name] = float(value)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", *names])
    for step in sorted(table):
        row = table[step]
        writer.writerow([step, *(repr(row[name]) if name in row else "" for name in names)])
    return out.getvalue()


def write_history_csv(history: dict, path: str) -> str:
    with open(path, "w", newline="") as f:
        f.write(history_csv(history))
    return path


# ---------------------------------------------------------------------------- figures
def parse_figure(figure) -> dict:
    """A figure as the page holds it (Plotly JSON text, or a dict) -> a dict with `data` and
    `layout`; UserInputError when there is none (a view not drawn yet) or it is malformed."""
    if figure is None or (isinstance(figure, str) and not figure.strip()):
        raise UserInputError("that figure has not been drawn yet: open its tab and draw it first")
    if isinstance(figure, str):
        if len(figure) > MAX_FIGURE_CHARS:
            raise UserInputError(f"the figure is {len(figure) / 1e6:.0f} MB of JSON; too large to export")
        try:
            figure = json.loads(figure)
        except ValueError:
            raise UserInputError("the figure is not valid Plotly JSON") from None
    if hasattr(figure, "to_plotly_json"):
        figure = figure.to_plotly_json()
    if not isinstance(figure, dict) or not isinstance(figure.get("data"), list) \
            or not isinstance(figure.get("layout", {}), dict):
        raise UserInputError("the figure is not Plotly JSON (an object with a 'data' list and a 'layout')")
    clean = {"data": figure["data"], "layout": figure.get("layout", {})}
    if isinstance(figure.get("frames"), list) and figure["frames"]:
        clean["frames"] = figure["frames"]
    return clean


def figure_html(figure, title: str = "EnergyLab figure") -> str:
    """A standalone HTML page of the figure with plotly.js inline: it works offline.
    Plotly escapes '<' in the embedded JSON, so text in a figure cannot close its script."""
    figure = parse_figure(figure)
    if isinstance(figure["layout"].get("template"), str):
        # a template by name (the app's builders skip validation): plotly.js ignores it on the page,
        # and plotly's writer needs a dict, so the file drops it too and looks as the page does
        figure["layout"] = {k: v for k, v in figure["layout"].items() if k != "template"}
    html = pio.to_html(figure, include_plotlyjs=True, full_html=True, validate=False, auto_play=False,
                       config={"displaylogo": False, "responsive": True,
                               "toImageButtonOptions": {"filename": _safe_name(title)}})
    # a title for the browser's tab; plotly's page has none
    return html.replace("<head>", f"<head><title>{_escape(title)}</title>", 1)


def write_figure_html(figure, path: str, title: str = "EnergyLab figure") -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write(figure_html(figure, title))
    return path


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:80] or "energylab"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def export_name(kind: str, step: int | None, dataset: str | None = None) -> str:
    """A file name (no extension) that says what it is: energylab-ring-landscape-step1200."""
    parts = ["energylab", dataset, kind, f"step{step}" if step is not None and math.isfinite(step) else None]
    return _safe_name("-".join(p for p in parts if p))


def unique_path(folder: str, name: str, extension: str) -> str:
    """folder/name.extension, numbered when that file already exists (earlier downloads stay valid)."""
    os.makedirs(folder, exist_ok=True)
    path, n = os.path.join(folder, f"{name}.{extension}"), 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(folder, f"{name}-{n}.{extension}")
    return path
