"""Plotly figure builders: numpy in (a probes.Frame), figures out. No torch, no Gradio.

Figures keep a fixed `uirevision`, so the browser keeps the user's zoom while frames stream in.
"""
from __future__ import annotations

import functools
import json
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.style import (
    ENERGY_SCALE,
    FAKE_COLOUR,
    IMAGES,
    LAYOUT,
    NOISE_COLOUR,
    REAL_COLOUR,
    colour_key,
    fast_figure,
    thin,
)
from explorer.measures import metrics
from explorer.measures.probes import Frame

LANDSCAPE_VIEWS = {
    "energy": "energy E(x)",
    "density": "density exp(-E(x)) / Z",
    "log density": "log density -E(x) - log Z",
}
# magenta: seen on every colour of the landscape and in the legend (white was blank on its white)
LATENT_GRID_COLOUR = "rgba(231,41,138,0.85)"
SHOWN_POINTS = 500     # points drawn per set: enough to see the shape
STREAMED_POINTS = 250  # per set in frames streamed while training: SVG markers are most of a redraw


def _robust_range(values: np.ndarray, low: float = 1.0, high: float = 99.0) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [low, high])
    return float(lo), float(hi if hi > lo else lo + 1.0)


def landscape_figure(frame: Frame, view: str = "energy", show_data: bool = True, show_samples: bool = True,
                     show_arrows: bool = False, show_latent: bool = False, contours: bool = True,
                     height: int = 520, title: str | None = None) -> go.Figure:
    """The energy landscape (or normalised density) as a heatmap with contours over the data box,
    with real data, generated samples, -grad E arrows and the latent grid's image on top.
    `contours=False` draws the heatmap alone and fewer points (cheaper to redraw, for frames
    streamed while training). `title` replaces the default one (view, step, log Z, mass outside)."""
    if frame.landscape is None:
        return digits_figure(frame, height=height)
    land = frame.landscape
    if view == "density":
        z = np.exp(land.log_density)
        zmin, zmax = 0.0, float(np.nanmax(z)) if np.isfinite(z).any() else 1.0
        scale, colour_title = dict(colorscale="Viridis"), "p(x)"
    elif view == "log density":
        z = land.log_density
        zmin, zmax = _robust_range(z, 5.0, 100.0)   # the far tails would wash out the modes
        scale, colour_title = dict(colorscale="Viridis"), "log p(x)"
    else:
        z = land.energy
        zmin, zmax = _robust_range(z, 0.0, 95.0)    # the quadratic prior grows fast at the box's edge
        scale, colour_title = ENERGY_SCALE, "E(x)"   # low energy bright, as high density is in the views above
    traces = []
    common = dict(x=land.xs, y=land.ys, z=z, zmin=zmin, zmax=zmax, **scale,
                  colorbar=dict(title=dict(text=colour_title), thickness=12),
                  name=LANDSCAPE_VIEWS.get(view, view),
                  hovertemplate="x %{x:.2f}, y %{y:.2f}<br>" + colour_title + " %{z:.3g}<extra></extra>")
    if contours:
        traces.append(dict(type="contour", **common, ncontours=18, contours=dict(coloring="heatmap", showlines=True),
                           line=dict(width=0.5, color="rgba(255,255,255,0.4)")))
    else:  # while training: a plain heatmap, which the browser redraws in a fraction of the time
        traces.append(dict(type="heatmap", **common, zsmooth="fast"))  # the browser's own image smoothing
    if show_latent and frame.latent_grid is not None:
        lines = frame.latent_grid
        xs = np.concatenate([np.append(line[:, 0], np.nan) for line in lines])
        ys = np.concatenate([np.append(line[:, 1], np.nan) for line in lines])
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=LATENT_GRID_COLOUR, width=1),
                           name="G(latent grid)", hoverinfo="skip"))
    if show_arrows and frame.arrows is not None:
        traces.append(_arrow_trace(frame.arrows, frame.bounds))
    samples_name = "Langevin chains" if frame.info.get("sampler") == "langevin" else "generated"
    for shown, points, name, colour, edge in ((show_data, frame.real, "real data", REAL_COLOUR, "white"),
                                              (show_samples, frame.fake, samples_name, FAKE_COLOUR, "black")):
        if shown:
            points = points[:SHOWN_POINTS if contours else STREAMED_POINTS]
            traces.append(dict(type="scatter", x=points[:, 0], y=points[:, 1], mode="markers", name=name,
                               marker=dict(size=4, color=colour, line=dict(width=0.5, color=edge))))
    xmin, xmax, ymin, ymax = frame.bounds
    layout = dict(LAYOUT, height=height,
                  title=dict(text=title or f"{LANDSCAPE_VIEWS.get(view, view)} · step {frame.step}"
                                           f" · log Z {land.log_z:.2f} · mass outside box {land.mass_outside:.1%}",
                             font=dict(size=14)),
                  xaxis=dict(range=[xmin, xmax], constrain="domain"),
                  yaxis=dict(range=[ymin, ymax], scaleanchor="x", scaleratio=1, constrain="domain"))
    return fast_figure(traces, layout)


def _arrow_trace(arrows: np.ndarray, bounds) -> dict:
    """-grad E as line segments with a dot at the start; length ~ sqrt|grad E|, the longest one cell."""
    xmin, xmax, ymin, ymax = bounds
    cell = min(xmax - xmin, ymax - ymin) / (math.sqrt(len(arrows)) + 1)
    direction = arrows[:, 2:]
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    norm = np.where(np.isfinite(norm), norm, 0.0)
    length = np.sqrt(norm)
    scale = cell * 0.9 / max(float(length.max()), 1e-12)
    ends = arrows[:, :2] + np.where(norm > 0, direction / np.maximum(norm, 1e-12), 0.0) * length * scale
    xs = np.column_stack([arrows[:, 0], ends[:, 0], np.full(len(arrows), np.nan)]).ravel()
    ys = np.column_stack([arrows[:, 1], ends[:, 1], np.full(len(arrows), np.nan)]).ravel()
    return dict(type="scatter", x=xs, y=ys, mode="lines+markers", name="-∇E (length ∝ √|∇E|)",
                line=dict(color="rgba(255,255,255,0.9)", width=1.2),
                marker=dict(size=[3, 0, 0] * len(arrows), color="white", line=dict(color="#444", width=0.6)),
                hoverinfo="skip")   # the dots' outline: the legend's white swatch would be blank on white


def digit_montage(images: np.ndarray, columns: int = 10, gap: int = 1) -> np.ndarray:
    """(N, 64) images in [-1, 1] tiled into one array, NaN in the gaps (drawn blank)."""
    n = len(images)
    rows = max(1, math.ceil(n / columns))
    size = 8 + gap
    canvas = np.full((rows * size - gap, columns * size - gap), np.nan, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * size:r * size + 8, c * size:c * size + 8] = image.reshape(8, 8)
    return canvas


def digits_figure(frame: Frame, count: int = 30, height: int = 520) -> go.Figure:
    """Digits have no 2-D landscape: generated and real images side by side instead, `count` of
    each in five columns (30: about 60 px an image at the page's default width)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("generated", "real"), horizontal_spacing=0.04)
    for col, images in ((1, frame.fake[:count]), (2, frame.real[:count])):
        fig.add_trace(go.Heatmap(z=digit_montage(images, columns=5), colorscale="Greys", zmin=-1, zmax=1,
                                 showscale=False, hoverinfo="skip"), row=1, col=col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                         showgrid=False, zeroline=False, row=1, col=col)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=col)
    fig.update_layout(**LAYOUT, height=height, meta=dict(kind=IMAGES),
                      title=dict(text=f"digits · step {frame.step} (8 x 8 images have no 2-D landscape)",
                                 font=dict(size=14)))
    return fig


CURVE_COLUMNS = 2
MIN_CURVE_STEPS = 500   # the step axis spans at least this (or the whole run, if shorter), so step 0 has axes
CURVE_ROOM = 1.1        # and grows with the run: at least 10 % beyond the newest step,
NICE_ENDS = (1, 1.5, 2, 3, 5, 7.5, 10)   # to the next of these x 10^k: it moves now and then, not every frame
# (panel title, [(history key, label, colour)], the data it applies to: "any", "points" or IMAGES);
# a panel of two lines has their colours and labels in its title
CURVES = (
    ("losses", [("loss_energy", "energy loss", REAL_COLOUR), ("loss_generator", "generator loss", FAKE_COLOUR)],
     "any"),
    ("mean E", [("energy_real", "real data", REAL_COLOUR), ("energy_fake", "generated", FAKE_COLOUR)], "any"),
    ("entropy estimate H", [("entropy", "H estimate", "#9467bd")], "any"),
    ("modes covered", [("modes_covered", "modes covered", "#17becf")], "points"),
    ("classes covered (of 10)", [("classes_covered", "classes covered", "#17becf")], IMAGES),
    ("NLL (nats)", [("nll", "NLL", "#e377c2"), ("validation_nll", "validation NLL", "#2ca02c")], "points"),
    ("high-quality fraction", [("high_quality_fraction", "high-quality fraction", "#bcbd22")], "points"),
)
OPTIONAL_LINES = {"validation_nll"}   # only runs with early stopping record it: in the key only when drawn
COVERAGE_PANELS = {"modes covered", "classes covered (of 10)"}   # counts: their axis starts at 0


def curve_panels(images: bool = False) -> tuple:
    """The panels that apply to the data: images have no modes, NLL or high-quality fraction."""
    kind = IMAGES if images else "points"
    return tuple(panel for panel in CURVES if panel[2] in ("any", kind))


@functools.lru_cache(maxsize=8)
def _curves_layout(titles: tuple[str, ...], height: int) -> str:
    """The grid of curve panels, built once per set of titles by make_subplots and kept as JSON."""
    rows = math.ceil(len(titles) / CURVE_COLUMNS)
    fig = make_subplots(rows=rows, cols=CURVE_COLUMNS, shared_xaxes=True, vertical_spacing=0.16 if rows > 2 else 0.12,
                        horizontal_spacing=0.14, subplot_titles=titles)
    for col in range(1, CURVE_COLUMNS + 1):
        fig.update_xaxes(title_text="step", row=rows, col=col)
    fig.update_annotations(font_size=11, yshift=4)   # clear of the panel's top tick label
    fig.update_layout(**LAYOUT, height=height, showlegend=False)
    return json.dumps(fig.layout.to_plotly_json())


def _last_step(history: dict) -> int:
    return max((int(rows[0][-1]) for rows in history.values() if len(rows[0])), default=0)


def _step_axis_end(newest: int, total_steps: int | None) -> float:
    """The step axis's end: a round number at least CURVE_ROOM x the newest step, never past the
    planned steps. Round, so the axis moves only now and then and a user's zoom lasts between."""
    wanted = max(MIN_CURVE_STEPS, newest * CURVE_ROOM)
    power = 10 ** math.floor(math.log10(wanted))
    end = next(power * nice for nice in NICE_ENDS if power * nice >= wanted)
    return max(newest, min(total_steps, end)) if total_steps else end


def curves_figure(history: dict, total_steps: int | None = None, height: int = 520, step: int = 0,
                  images: bool = False) -> go.Figure:
    """Training curves against steps: losses, mean energies, entropy estimate, coverage, NLL (the
    panels that apply to the data: curve_panels). The step axis grows with the run, from
    MIN_CURVE_STEPS to the planned steps, so a long run's curves fill most of their panels from the start."""
    traces, titles, axes = [], [], {}
    for index, (title, lines, _) in enumerate(curve_panels(images)):
        axis = "" if index == 0 else str(index + 1)   # make_subplots numbers the panels row by row
        key_items = []
        for key, label, colour in lines:
            drawn = key in history and len(history[key][0]) > 0
            if drawn:
                steps, values = thin(*history[key])
                traces.append(dict(type="scatter", x=steps, y=values, name=label,
                                   mode="lines+markers" if len(steps) < 30 else "lines",
                                   line=dict(width=1.5, color=colour), xaxis="x" + axis, yaxis="y" + axis))
            if drawn or key not in OPTIONAL_LINES:
                key_items.append((label, colour))
        # explicit either way: Plotly.react, redrawing a kept chart, would keep the last run's range,
        # or this one's [0, 1] once lines came
        axes["yaxis" + axis] = dict(autorange=True)
        if not any(trace["yaxis"] == "y" + axis for trace in traces):   # plotly draws no axes for a panel without
            traces.append(dict(type="scatter", x=[], y=[], xaxis="x" + axis, yaxis="y" + axis, hoverinfo="skip"))
            axes["yaxis" + axis] = dict(autorange=False, range=[0, 1])
        titles.append(title + ("<br>" + colour_key(key_items) if len(key_items) > 1 else ""))
        if title in COVERAGE_PANELS:
            axes["yaxis" + axis]["rangemode"] = "tozero"
    layout = json.loads(_curves_layout(tuple(titles), height))
    right = _step_axis_end(max(step, _last_step(history)), total_steps)
    for name in layout:
        if name.startswith("xaxis"):
            layout[name]["range"] = [0, right]
    for name, extra in axes.items():
        layout[name].update(extra)
    return fast_figure(traces, layout)


def histogram_figure(frame: Frame, bins: int = 50, height: int = 340) -> go.Figure:
    """Energy histograms of real data, generated samples and uniform noise, on shared bins, with
    the overlap score of real vs generated (metrics.histogram_overlap)."""
    hist = metrics.energy_histograms(frame.energy_real, frame.energy_fake, frame.energy_noise, bins=bins)
    edges = hist["edges"]
    centres, widths = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    traces = []
    for key, label, colour in (("counts_noise", "uniform noise", NOISE_COLOUR),
                               ("counts_real", "real data", REAL_COLOUR),
                               ("counts_fake", "generated", FAKE_COLOUR)):
        counts = hist[key]
        share = counts / max(int(counts.sum()), 1)
        traces.append(dict(type="bar", x=centres, y=share, width=widths, name=label, marker=dict(color=colour),
                           opacity=0.55, hovertemplate="E %{x:.3g}: %{y:.1%}<extra>" + label + "</extra>"))
    overlap = hist["overlap_real_fake"]
    overlap_text = f"{overlap:.2f}" if math.isfinite(overlap) else "n/a"
    # the legend at the foot of the figure, under the axis title: in this narrow figure it wraps,
    # and above the plot it ran into the title
    layout = dict(LAYOUT, height=height, barmode="overlay", bargap=0, margin=dict(l=50, r=20, t=45, b=95),
                  legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0, xanchor="left"),
                  title=dict(text=f"energy histograms · overlap real/generated {overlap_text}", font=dict(size=14)),
                  xaxis=dict(title=dict(text="energy E(x)")), yaxis=dict(title=dict(text="share"), tickformat=".0%"))
    return fast_figure(traces, layout)
