"""Figures of what a generator draws: sample galleries, latent interpolations, UMAP embeddings.

Numpy in (explorer/measures/gallery.py, explorer/measures/embedding.py), Plotly figures out. Digits are drawn
pixel for pixel (heatmaps without smoothing: upscaled, never blurred).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.frame import digit_montage
from explorer.figures.style import FAKE_COLOUR, LAYOUT, REAL_COLOUR
from explorer.measures.gallery import Gallery, Path
from explorer.measures.probes import Landscape

ENERGY_SCALE = "Plasma"
EXTREMES = 5          # lowest- and highest-energy samples marked in a 2-D gallery
COLOUR_BY = ("source", "energy", "class")
DIGIT_TILE = 9        # 8 pixels + 1 gap, as digit_montage lays them out
GALLERY_TILE = 12     # 8 pixels + a gap wide enough for the energy under each image


def _faint_landscape(landscape: Landscape) -> go.Heatmap:
    return go.Heatmap(x=landscape.xs, y=landscape.ys, z=landscape.energy, colorscale="Greys", showscale=False,
                      opacity=0.35, zmax=float(np.percentile(landscape.energy, 95)), hoverinfo="skip",
                      name="energy")


def _square_axes(fig: go.Figure, bounds, row=None, col=None) -> None:
    xmin, xmax, ymin, ymax = bounds
    fig.update_xaxes(range=[xmin, xmax], constrain="domain", row=row, col=col)
    fig.update_yaxes(range=[ymin, ymax], scaleanchor="x", scaleratio=1, constrain="domain", row=row, col=col)


def _montage_trace(images: np.ndarray, energies: np.ndarray, columns: int, label: str,
                   tile: int = DIGIT_TILE) -> go.Heatmap:
    """Images tiled as one heatmap (`tile` = 8 pixels + gap); hovering a tile names the image and its energy."""
    canvas = digit_montage(images, columns=columns, gap=tile - 8)
    hover = np.full(canvas.shape, "", dtype=object)
    for i, e in enumerate(energies):
        r, c = divmod(i, columns)
        hover[r * tile:r * tile + 8, c * tile:c * tile + 8] = f"{label} #{i}<br>E = {e:.3g}"
    return go.Heatmap(z=canvas, colorscale="Greys", zmin=-1, zmax=1, showscale=False, zsmooth=False,
                      text=hover, hovertemplate="%{text}<extra></extra>", name=label)


def _energy_labels(energies: np.ndarray, columns: int, xref: str, yref: str, tile: int) -> list[dict]:
    """Each image's energy, in the gap under it."""
    labels = []
    for i, e in enumerate(energies):
        r, c = divmod(i, columns)
        labels.append(dict(x=c * tile + 3.5, y=r * tile + 7.6, text=f"{e:.3g}", showarrow=False,
                           font=dict(size=9, color="#444"), xref=xref, yref=yref, yanchor="top"))
    return labels


def gallery_figure(gallery: Gallery, landscape: Landscape | None = None, bounds=None, columns: int = 8,
                   height: int = 560) -> go.Figure:
    """Digits: generated images beside real ones, each with its energy. 2-D: the samples coloured by
    energy over the landscape, with the lowest- and highest-energy ones marked."""
    if gallery.samples.shape[1] != 2:
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.04,
                            subplot_titles=(f"generated (seed {gallery.seed})", "real"))
        labelled = len(gallery.samples) <= 64
        tile = GALLERY_TILE if labelled else DIGIT_TILE
        fig.add_trace(_montage_trace(gallery.samples, gallery.energies, columns, "generated", tile), row=1, col=1)
        fig.add_trace(_montage_trace(gallery.real, gallery.real_energies, columns, "real", tile), row=1, col=2)
        labels = (_energy_labels(gallery.energies, columns, "x", "y", tile)
                  + _energy_labels(gallery.real_energies, columns, "x2", "y2", tile)) if labelled else []
        for col in (1, 2):
            fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                             showgrid=False, zeroline=False, row=1, col=col)
            fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=col)
        fig.update_layout(**LAYOUT, height=height, annotations=list(fig.layout.annotations) + labels,
                          title=dict(text=f"samples and their energies (under each image; hover for more) · "
                                          f"mean E generated {gallery.energies.mean():.3g}, "
                                          f"real {gallery.real_energies.mean():.3g}",
                                     font=dict(size=14)))
        return fig
    fig = go.Figure()
    if landscape is not None:
        fig.add_trace(_faint_landscape(landscape))
    fig.add_trace(go.Scatter(x=gallery.real[:, 0], y=gallery.real[:, 1], mode="markers", name="real data",
                             marker=dict(size=4, color="rgba(31,119,180,0.35)")))
    fig.add_trace(go.Scatter(
        x=gallery.samples[:, 0], y=gallery.samples[:, 1], mode="markers", name="generated",
        marker=dict(size=6, color=gallery.energies, colorscale=ENERGY_SCALE, showscale=True,
                    colorbar=dict(title=dict(text="E(x)"), thickness=12)),
        text=[f"#{i}" for i in range(len(gallery.samples))],
        hovertemplate="%{text}: E = %{marker.color:.3g}<extra></extra>"))
    order = np.argsort(gallery.energies)
    for index, name, symbol in ((order[:EXTREMES], "lowest energy", "star"),
                                (order[-EXTREMES:], "highest energy", "x")):
        fig.add_trace(go.Scatter(x=gallery.samples[index, 0], y=gallery.samples[index, 1], mode="markers",
                                 name=f"{len(index)} {name}", marker=dict(size=14, symbol=symbol, color="black",
                                                                           line=dict(width=1, color="white"))))
    if bounds is not None:
        _square_axes(fig, bounds)
    fig.update_layout(**LAYOUT, height=height,
                      title=dict(text=f"{len(gallery.samples)} samples coloured by energy (seed {gallery.seed})",
                                 font=dict(size=14)))
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
                                 marker=dict(size=6, color=path.energies, colorscale=ENERGY_SCALE),
                                 line=dict(color="rgba(0,0,0,0.4)")), row=1, col=1)
        if bounds is not None:
            _square_axes(fig, bounds, row=1, col=1)
        marker_xy = [(path.samples[i, 0], path.samples[i, 1]) for i in along]
        marker_ref = dict(row=1, col=1)
    else:
        fig = make_subplots(rows=2, cols=1, row_heights=[0.45, 0.55], vertical_spacing=0.12, shared_xaxes=True,
                            subplot_titles=("G(z) along the latent path", "energy along the path"))
        fig.add_trace(_montage_trace(path.samples, path.energies, steps, "step"), row=1, col=1)
        # square pixels: the strip's height follows its width
        fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x", constrain="domain", row=1, col=1)
        fig.update_xaxes(constrain="domain", row=1, col=1)
        marker_xy = [(i * DIGIT_TILE + 3.5, 3.5) for i in along]
        marker_ref = dict(row=1, col=1)
        along = along * DIGIT_TILE + 3.5   # energies under their images
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
                                      f"energy from {path.energies[0]:.3g} to {path.energies[-1]:.3g}, "
                                      f"highest {path.energies.max():.3g} on the way",
                                 font=dict(size=14)))
    fig.update_layout(margin=dict(b=110))
    return fig


def embedding_figure(real_2d: np.ndarray, fake_2d: np.ndarray, *, colour_by: str = "source",
                     real_energies=None, fake_energies=None, real_labels=None, fake_labels=None,
                     real_images=None, fake_images=None, seconds: float | None = None, height: int = 600) -> go.Figure:
    """UMAP of real and generated points: coloured by source, by energy, or (digits) by the
    classifier's label; real points are circles, generated ones diamonds. For digits, each point
    carries its 8 x 8 image (as 0-16 pixel levels) for the page to show on hover."""
    fig = go.Figure()
    sets = (("real", real_2d, real_energies, real_labels, real_images, "circle", REAL_COLOUR),
            ("generated", fake_2d, fake_energies, fake_labels, fake_images, "diamond", FAKE_COLOUR))
    for name, xy, energies, labels, images, symbol, colour in sets:
        marker = dict(size=5, symbol=symbol, opacity=0.7)
        hover = name
        if colour_by == "energy" and energies is not None:
            marker.update(color=energies, colorscale=ENERGY_SCALE,
                          cmin=float(np.min([np.min(real_energies), np.min(fake_energies)])),
                          cmax=float(np.max([np.max(real_energies), np.max(fake_energies)])),
                          showscale=name == "real", colorbar=dict(title=dict(text="E(x)"), thickness=12))
            hover += ": E = %{marker.color:.3g}"
        elif colour_by == "class" and labels is not None:
            marker.update(color=labels, colorscale="Turbo", cmin=0, cmax=9, showscale=name == "real",
                          colorbar=dict(title=dict(text="class"), thickness=12, tickvals=list(range(10))))
            hover += ": class %{marker.color}"
        else:
            marker.update(color=colour)
        trace = dict(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name, marker=marker,
                     hovertemplate=hover + "<extra></extra>")
        if images is not None:  # quantised back to the 17 pixel levels of the real digits: small to send
            trace["customdata"] = np.clip(np.rint((np.asarray(images) + 1.0) * 8.0), 0, 16).astype(np.int8)
        fig.add_trace(go.Scatter(**trace))   # SVG: the page's plotly.js bundle has no WebGL traces
    took = f" · {seconds:.1f} s" if seconds is not None else ""
    fig.update_layout(**LAYOUT, height=height, xaxis=dict(showticklabels=False, title="UMAP 1"),
                      yaxis=dict(showticklabels=False, title="UMAP 2"),
                      title=dict(text=f"UMAP of {len(real_2d):,} real and {len(fake_2d):,} generated points, "
                                      f"coloured by {colour_by}{took}", font=dict(size=14)))
    return fig
