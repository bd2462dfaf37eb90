"""What every figure of the app shares: the layout, the colours of real and generated points, and
how a figure is built and kept light to send."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

REAL_COLOUR = "#1f77b4"
FAKE_COLOUR = "#ff7f0e"
NOISE_COLOUR = "#7f7f7f"
# a fixed `uirevision`: the browser keeps the user's zoom while frames stream in
LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=75, b=40), uirevision="keep",
              legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0.0))
MAX_CURVE_POINTS = 400
# One energy scale on every tab: low energy (high density) bright, as in the density views.
# plotly.js knows no "Viridis_r" (a plotly.py name, and these figures skip plotly.py's validation).
ENERGY_SCALE = dict(colorscale="Viridis", reversescale=True)
# the ten digit classes: discrete colours (plotly's category10), never a continuous scale
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
IMAGES = "images"   # layout.meta.kind of a figure of images: the page hides what applies to 2-D points only


def colour_key(items: list[tuple[str, str]]) -> str:
    """A legend in a panel's title: a line swatch and its label in each line's colour."""
    return "  ".join(f'<span style="color:{colour}">━ {label}</span>' for label, colour in items)


def fast_figure(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, unvalidated: these builders run for every
    streamed frame, where plotly's per-property validation cost more than the rest of the frame.
    Their names and values are fixed here, and the tests draw each one."""
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def thin(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_CURVE_POINTS points, keeping the last one, so long runs stay light to send."""
    if len(steps) <= MAX_CURVE_POINTS:
        return steps, values
    index = np.unique(np.linspace(0, len(steps) - 1, MAX_CURVE_POINTS).astype(int))
    return steps[index], values[index]
