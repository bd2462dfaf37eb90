"""Figures of what a generator draws: sample galleries, latent interpolations, UMAP embeddings.

Numpy in (explorer/measures/gallery.py, explorer/measures/embedding.py), Plotly figures out. Digits are drawn
pixel for pixel (heatmaps without smoothing: upscaled, never blurred).
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.frame import digit_montage
from explorer.figures.style import CLASS_COLOURS, ENERGY_SCALE, FAKE_COLOUR, IMAGES, LAYOUT, REAL_COLOUR
from explorer.measures.gallery import Gallery, Path
from explorer.measures.probes import Landscape

EXTREMES = 5          # lowest- and highest-energy samples marked in a 2-D gallery
COLOUR_BY = ("source", "energy", "class")
DIGIT_TILE = 9        # 8 pixels + 1 gap, as digit_montage lays them out
GALLERY_TILE = 12     # 8 pixels + a gap wide enough for the energy under each image
# Image views are sized for the page's default layout: a figure about this many pixels wide
# (a 1400-pixel window), so that each digit is drawn at least ~48 pixels square.
PAGE_FIGURE_WIDTH = 776
MARGINS = dict(l=50, r=20)
PANEL_GAP = 0.04
STRIP_COLUMNS = 12    # images per row of an interpolation strip (~52 px each)


def _faint_landscape(landscape: Landscape) -> go.Heatmap:
    """The energy behind the points, in greys: light where the energy is low, as the landscape is
    bright there (plotly.py's "Greys" runs from white, plotly.js's from black)."""
    return go.Heatmap(x=landscape.xs, y=landscape.ys, z=landscape.energy, colorscale="Greys", showscale=False,
                      opacity=0.35, zmax=float(np.percentile(landscape.energy, 95)), hoverinfo="skip", name="energy")


def _square_axes(fig: go.Figure, bounds, row=None, col=None) -> None:
    xmin, xmax, ymin, ymax = bounds
    fig.update_xaxes(range=[xmin, xmax], constrain="domain", row=row, col=col)
    fig.update_yaxes(range=[ymin, ymax], scaleanchor="x", scaleratio=1, constrain="domain", row=row, col=col)


def _bare_axes(fig: go.Figure, row: int, col: int) -> None:
    """Axes of a montage: no ticks, no grid lines through the images."""
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=row, col=col)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, row=row, col=col)


def _pixels_per_unit(panel_fraction: float, columns: int, tile: int) -> float:
    """Screen pixels per montage pixel when `columns` tiles fill a panel `panel_fraction` of the plot wide."""
    return (PAGE_FIGURE_WIDTH - MARGINS["l"] - MARGINS["r"]) * panel_fraction / (columns * tile)


def _energy_text(e: float) -> str:
    """Short enough to sit under a thumbnail: -5,020 rather than -5.02e+03."""
    return f"{e:,.0f}" if abs(e) >= 100 else f"{e:.3g}"


def _montage_trace(images: np.ndarray, energies: np.ndarray, columns: int, label: str,
                   tile: int = DIGIT_TILE) -> go.Heatmap:
    """Images tiled as one heatmap (`tile` = 8 pixels + gap); hovering a tile names the image and its energy."""
    canvas = digit_montage(images, columns=columns, gap=tile - 8)
    hover = np.full(canvas.shape, "", dtype=object)
    for i, e in enumerate(energies):
        r, c = divmod(i, columns)
        hover[r * tile:r * tile + 8, c * tile:c * tile + 8] = f"{label} #{i}<br>E = {e:.4g}"
    return go.Heatmap(z=canvas, colorscale="Greys", zmin=-1, zmax=1, showscale=False, zsmooth=False,
                      text=hover, hovertemplate="%{text}<extra></extra>", name=label)


def _energy_labels(energies: np.ndarray, columns: int, xref: str, yref: str, tile: int) -> list[dict]:
    """Each image's energy, in the gap under it."""
    labels = []
    for i, e in enumerate(energies):
        r, c = divmod(i, columns)
        labels.append(dict(x=c * tile + 3.5, y=r * tile + 7.6, text=_energy_text(e), showarrow=False,
                           font=dict(size=10, color="#444"), xref=xref, yref=yref, yanchor="top"))
    return labels


def _gallery_columns(n: int) -> int:
    """Few columns for the default 64 (big images), more for the larger galleries (a figure of sane height)."""
    return 4 if n <= 64 else 8 if n <= 200 else 10


def digits_gallery_figure(gallery: Gallery) -> go.Figure:
    """Generated images beside real ones, each with its energy; tall enough for each to be read."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=PANEL_GAP,
                        subplot_titles=(f"generated (seed {gallery.seed})", "real"))
    n = max(len(gallery.samples), len(gallery.real))
    columns = _gallery_columns(n)
    labelled = n <= 64
    tile = GALLERY_TILE if labelled else DIGIT_TILE
    fig.add_trace(_montage_trace(gallery.samples, gallery.energies, columns, "generated", tile), row=1, col=1)
    fig.add_trace(_montage_trace(gallery.real, gallery.real_energies, columns, "real", tile), row=1, col=2)
    labels = (_energy_labels(gallery.energies, columns, "x", "y", tile)
              + _energy_labels(gallery.real_energies, columns, "x2", "y2", tile)) if labelled else []
    for col in (1, 2):
        _bare_axes(fig, 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    rows = -(-n // columns)
    top, bottom = 90, 20
    height = top + bottom + round(rows * tile * _pixels_per_unit((1 - PANEL_GAP) / 2, columns, tile))
    order = "lowest energy first" if gallery.sorted else "in the order drawn"
    fig.update_layout(**LAYOUT, height=max(height, 400), meta=dict(kind=IMAGES),
                      annotations=list(fig.layout.annotations) + labels)
    fig.update_layout(margin=dict(MARGINS, t=top, b=bottom),
                      title=dict(text=f"samples {order}, each with its energy{' under it' if labelled else ''} · "
                                      f"mean E generated {_energy_text(gallery.energies.mean())}, "
                                      f"real {_energy_text(gallery.real_energies.mean())}", font=dict(size=14)))
    return fig


def _fanned_labels(points: np.ndarray, numbers: np.ndarray) -> list[dict]:
    """Each marked sample's number on an arrow, the arrows fanned out and of alternate lengths:
    samples in one well would otherwise hide each other's labels."""
    labels = []
    for k, ((x, y), number) in enumerate(zip(points, numbers, strict=True)):
        angle = math.radians(90 + (k - (len(numbers) - 1) / 2) * 30)
        length = 48 + 24 * (k % 2)
        labels.append(dict(x=float(x), y=float(y), text=f"#{number}", ax=length * math.cos(angle),
                           ay=-length * math.sin(angle), showarrow=True, arrowhead=0, arrowwidth=1, arrowcolor="#333",
                           font=dict(size=11, color="#111"), bgcolor="rgba(255,255,255,0.85)", borderpad=1))
    return labels


def gallery_figure(gallery: Gallery, landscape: Landscape | None = None, bounds=None, height: int = 560) -> go.Figure:
    """Digits: generated and real images (digits_gallery_figure). 2-D: the samples coloured by energy
    over the landscape, the lowest- and highest-energy ones marked with their numbers (the numbers
    Interpolation's gallery samples use; sorted, #0 is the lowest)."""
    if gallery.samples.shape[1] != 2:
        return digits_gallery_figure(gallery)
    fig = go.Figure()
    if landscape is not None:
        fig.add_trace(_faint_landscape(landscape))
    fig.add_trace(go.Scatter(x=gallery.real[:, 0], y=gallery.real[:, 1], mode="markers", name="real data",
                             marker=dict(size=4, color="rgba(31,119,180,0.35)")))
    fig.add_trace(go.Scatter(
        x=gallery.samples[:, 0], y=gallery.samples[:, 1], mode="markers", name="generated",
        marker=dict(size=7, color=gallery.energies, **ENERGY_SCALE, showscale=True,
                    line=dict(width=0.5, color="#333"), colorbar=dict(title=dict(text="E(x)"), thickness=12)),
        text=[f"#{i}" for i in range(len(gallery.samples))],
        hovertemplate="%{text}: E = %{marker.color:.4g}<extra></extra>"))
    order = np.argsort(gallery.energies, kind="stable")
    labels = []
    # the lowest often share one well: their numbers on fanned arrows; the highest lie apart, named beside them
    for index, name, symbol, fanned in ((order[:EXTREMES], "lowest energy", "star", True),
                                        (order[-EXTREMES:], "highest energy", "x", False)):
        points = gallery.samples[index]
        fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers" if fanned else "markers+text",
                                 name=f"{len(index)} {name}", text=[f"#{i}" for i in index],
                                 textposition="top right", textfont=dict(size=11, color="#111"),
                                 hovertemplate="%{text}: E = " + "%{customdata:.4g}<extra>" + name + "</extra>",
                                 customdata=gallery.energies[index],
                                 marker=dict(size=14, symbol=symbol, color="black", line=dict(width=1, color="white"))))
        labels += _fanned_labels(points, index) if fanned else []
    if bounds is not None:
        _square_axes(fig, bounds)
    numbered = "numbered from the lowest energy (#0)" if gallery.sorted else "numbered in the order drawn"
    fig.update_layout(**LAYOUT, height=height, annotations=labels,
                      title=dict(text=f"{len(gallery.samples)} samples coloured by energy (seed {gallery.seed}), "
                                      f"{numbered}", font=dict(size=14)))
    return fig


def _play_controls(steps: int, duration_ms: int = 120) -> dict:
    """A Play button and a slider over the path's frames (Plotly animates in the browser)."""
    return dict(
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.08, xanchor="left", yanchor="top",
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=duration_ms, redraw=True),
                                                         transition=dict(duration=0), fromcurrent=True)]),
                                   dict(label="pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])],
        sliders=[dict(active=0, x=0.12, len=0.88, y=-0.04, yanchor="top", currentvalue=dict(prefix="step "),
                      steps=[dict(label=str(i), method="animate",
                                  args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                       transition=dict(duration=0))]) for i in range(steps)])])


def interpolation_figure(path: Path, landscape: Landscape | None = None, bounds=None, height: int = 620) -> go.Figure:
    """The path G traces between two latents: over the landscape (2-D) or as a strip of images
    (digits), with the energy along it; play it, or scrub it with the slider."""
    steps = len(path.samples)
    along = np.arange(steps)
    if path.samples.shape[1] == 2:
        fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.1,
                            subplot_titles=("G(z) along the latent path", "energy along the path"))
        if landscape is not None:
            fig.add_trace(_faint_landscape(landscape), row=1, col=1)
        fig.add_trace(go.Scatter(x=path.samples[:, 0], y=path.samples[:, 1], mode="lines+markers", name="path",
                                 marker=dict(size=6, color=path.energies, **ENERGY_SCALE),
                                 line=dict(color="rgba(0,0,0,0.4)")), row=1, col=1)
        if bounds is not None:
            _square_axes(fig, bounds, row=1, col=1)
        marker_xy = [(path.samples[i, 0], path.samples[i, 1]) for i in along]
        marker_ref = dict(row=1, col=1)
    else:   # rows of STRIP_COLUMNS images, each ~52 px; the energy below, against the step along the path
        columns = min(steps, STRIP_COLUMNS)
        strip = math.ceil(steps / columns) * DIGIT_TILE * _pixels_per_unit(1.0, columns, DIGIT_TILE)
        chart, gap = 220, 70
        height = round(90 + 110 + strip + gap + chart)   # the title above, the play controls below
        fig = make_subplots(rows=2, cols=1, row_heights=[strip, chart], vertical_spacing=gap / (strip + gap + chart),
                            subplot_titles=("G(z) along the latent path", "energy at each step along the path"))
        fig.add_trace(_montage_trace(path.samples, path.energies, columns, "step"), row=1, col=1)
        _bare_axes(fig, 1, 1)
        # square pixels: the strip's height follows its width
        fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", row=1, col=1)
        fig.update_xaxes(constrain="domain", row=1, col=1)
        fig.update_xaxes(range=[-0.5, steps - 0.5], row=2, col=1)
        marker_xy = [((i % columns) * DIGIT_TILE + 3.5, (i // columns) * DIGIT_TILE + 3.5) for i in along]
        marker_ref = dict(row=1, col=1)
    row, col = (1, 2) if path.samples.shape[1] == 2 else (2, 1)
    fig.add_trace(go.Scatter(x=along, y=path.energies, mode="lines+markers", name="energy",
                             line=dict(color=FAKE_COLOUR)), row=row, col=col)
    # the two moving markers: the current point, and its energy
    fig.add_trace(go.Scatter(x=[marker_xy[0][0]], y=[marker_xy[0][1]], mode="markers", name="current",
                             marker=dict(size=16, symbol="circle-open", color="red", line=dict(width=3))), **marker_ref)
    fig.add_trace(go.Scatter(x=[along[0]], y=[path.energies[0]], mode="markers", name="current energy",
                             marker=dict(size=12, color="red")), row=row, col=col)
    moving = [len(fig.data) - 2, len(fig.data) - 1]
    fig.frames = [go.Frame(name=str(i), traces=moving,
                           data=[go.Scatter(x=[marker_xy[i][0]], y=[marker_xy[i][1]]),
                                 go.Scatter(x=[along[i]], y=[path.energies[i]])]) for i in range(steps)]
    fig.update_layout(**LAYOUT, height=height, showlegend=False, **_play_controls(steps),
                      title=dict(text=f"{path.method} interpolation, {steps} steps · "
                                      f"energy from {_energy_text(path.energies[0])} to "
                                      f"{_energy_text(path.energies[-1])}, highest {_energy_text(path.energies.max())} "
                                      "on the way",
                                 font=dict(size=14)))
    fig.update_layout(margin=dict(b=110))
    return fig


def _pixel_levels(images) -> np.ndarray:
    """Images quantised back to the 17 pixel levels of the real digits: small to send."""
    return np.clip(np.rint((np.asarray(images) + 1.0) * 8.0), 0, 16).astype(np.int8)


def _class_traces(sets) -> list[dict]:
    """One trace per class, real and generated points together (circles and diamonds), in its own
    colour: ten classes are categories, not a scale."""
    traces = []
    for label, colour in enumerate(CLASS_COLOURS):
        xy, symbols, names, images = [], [], [], []
        for name, points, _, labels, pictures, symbol, _ in sets:
            chosen = np.asarray(labels) == label
            xy.append(points[chosen])
            symbols += [symbol] * int(chosen.sum())
            names += [name] * int(chosen.sum())
            if pictures is not None:
                images.append(_pixel_levels(pictures)[chosen])
        xy = np.concatenate(xy)
        trace = dict(x=xy[:, 0], y=xy[:, 1], mode="markers", name=str(label), text=names,
                     marker=dict(size=5, symbol=symbols, color=colour, opacity=0.75),
                     hovertemplate=f"class {label}: " + "%{text}<extra></extra>")
        if images:
            trace["customdata"] = np.concatenate(images)
        traces.append(trace)
    return traces


def embedding_figure(real_2d: np.ndarray, fake_2d: np.ndarray, *, colour_by: str = "source",
                     real_energies=None, fake_energies=None, real_labels=None, fake_labels=None,
                     real_images=None, fake_images=None, seconds: float | None = None, height: int = 600) -> go.Figure:
    """UMAP of real and generated points: coloured by source, by energy, or (digits) by the
    classifier's label, one colour a class; real points are circles, generated ones diamonds. For
    digits, each point carries its 8 x 8 image (as 0-16 pixel levels) for the page to show on hover."""
    fig = go.Figure()
    sets = (("real", real_2d, real_energies, real_labels, real_images, "circle", REAL_COLOUR),
            ("generated", fake_2d, fake_energies, fake_labels, fake_images, "diamond", FAKE_COLOUR))
    by_class = colour_by == "class" and real_labels is not None and fake_labels is not None
    for trace in _class_traces(sets) if by_class else ():
        fig.add_trace(go.Scatter(**trace))
    for name, xy, energies, _, images, symbol, colour in () if by_class else sets:
        marker = dict(size=5, symbol=symbol, opacity=0.7)
        hover = name
        if colour_by == "energy" and energies is not None:
            marker.update(color=energies, **ENERGY_SCALE,
                          cmin=float(np.min([np.min(real_energies), np.min(fake_energies)])),
                          cmax=float(np.max([np.max(real_energies), np.max(fake_energies)])),
                          showscale=name == "real", colorbar=dict(title=dict(text="E(x)"), thickness=12))
            hover += ": E = %{marker.color:.4g}"
        else:
            marker.update(color=colour)
        trace = dict(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name, marker=marker,
                     hovertemplate=hover + "<extra></extra>")
        if images is not None:
            trace["customdata"] = _pixel_levels(images)
        fig.add_trace(go.Scatter(**trace))   # SVG: the page's plotly.js bundle has no WebGL traces
    took = f" · {seconds:.1f} s" if seconds is not None else ""
    shapes = " (circles real, diamonds generated)" if by_class else ""
    fig.update_layout(**LAYOUT, height=height, xaxis=dict(showticklabels=False, title="UMAP 1"),
                      yaxis=dict(showticklabels=False, title="UMAP 2"),
                      title=dict(text=f"UMAP of {len(real_2d):,} real and {len(fake_2d):,} generated points, "
                                      f"coloured by {colour_by}{shapes}{took}", font=dict(size=14)))
    if by_class:
        fig.update_layout(legend=dict(LAYOUT["legend"], title=dict(text="class")))
    return fig


# The first UMAP in a server process compiles umap-learn's numba code: 20-40 s on a small machine
# (measured on 2 shared cores: import 4 s, first layout 11-23 s, up to ~55 s under load); later
# ones take a few seconds. The view says so before it is asked and while it works.
def embedding_placeholder(computing: bool = False, first: bool = True, height: int = 600) -> go.Figure:
    """The embedding view with no UMAP in it: what pressing Compute UMAP will show, or (`computing`)
    that it is being computed, and how long the wait is (`first`: the first in this process)."""
    if computing:
        lines = ["<b>Computing the UMAP…</b>",
                 "the first UMAP after the server starts takes 20-40 s (UMAP compiles its code)" if first
                 else "a few seconds"]
    else:
        lines = ["<b>Press Compute UMAP</b> to embed real data and generated samples together in 2-D:",
                 "a generator that collapses shows as generated points piled on a few islands.",
                 "The first UMAP after the server starts takes 20-40 s (UMAP compiles its code);",
                 "later ones a few seconds."]
    hidden = dict(visible=False)
    return go.Figure(layout=dict(LAYOUT, height=height, xaxis=hidden, yaxis=hidden,
                                 meta=dict(kind="placeholder"),
                                 annotations=[dict(text="<br>".join(lines), x=0.5, y=0.6, xref="paper", yref="paper",
                                                   showarrow=False, font=dict(size=15), align="center")]))
