"""Figures of the Densities tab: p_data, p_E and p_G side by side on one colour scale, and the
generator's grid entropy against what each entropy estimator reports, over training.

Numpy in (explorer/measures/densities.py, a run's history), plain-dict Plotly figures out (style.fast_figure).
"""
from __future__ import annotations

import math

import numpy as np

from explorer.figures.style import IMAGES, LAYOUT, fast_figure, thin
from explorer.measures.densities import DensityView

SCALES = ("density", "log density")
LOG_RANGE = 12.0          # nats shown below the highest log density (the floor of an estimate sits ~10-12 below)
PANEL_GAP = 0.05
GRID_COLOUR = "#222222"
ESTIMATOR_COLOURS = {"entropy_knn": "#2ca02c", "entropy_batchnorm": "#9467bd", "entropy_pullaway": "#8c564b"}
NOT_2D = "This view is for 2-D data: densities on a grid and a grid entropy need two coordinates (digits have 64)."


def kl_text(kl: dict) -> str:
    return (f"KL(p_data‖p_E) {kl['data_energy']:.3g} · KL(p_data‖p_G) {kl['data_generator']:.3g}"
            f" · KL(p_G‖p_E) {kl['generator_energy']:.3g} nats")


def densities_figure(view: DensityView, scale: str = "log density", height: int = 430) -> dict:
    """Three heatmaps on one colour axis: p_data, p_E = exp(-E)/Z, p_G (or log densities)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    generator_name = "Langevin chains" if view.sampler == "langevin" else "p_G"
    panels = (("p_data" + (" (exact)" if view.data_exact else " (KDE estimate)"), view.log_data),
              ("p_E = exp(-E)/Z", view.log_energy),
              (f"{generator_name} (KDE estimate)", view.log_generator))
    top = max(float(np.nanmax(z)) for _, z in panels)
    if scale == "density":
        values = [np.exp(z) for _, z in panels]
        zmin, zmax, colour_title = 0.0, math.exp(top), "p(x)"
    else:
        values = [z for _, z in panels]
        zmin, zmax, colour_title = top - LOG_RANGE, top, "log p(x)"
    width = (1.0 - 2 * PANEL_GAP) / 3
    traces, layout = [], dict(LAYOUT, height=height, margin=dict(l=40, r=20, t=90, b=40))
    annotations = []
    xmin, xmax, ymin, ymax = view.grid.bounds
    for i, ((title, _), z) in enumerate(zip(panels, values, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        left = i * (width + PANEL_GAP)
        traces.append(dict(type="heatmap", x=view.grid.xs, y=view.grid.ys, z=z.astype(np.float32),
                           coloraxis="coloraxis", xaxis="x" + suffix, yaxis="y" + suffix, name=title,
                           hovertemplate=f"{title}<br>x %{{x:.2f}}, y %{{y:.2f}}<br>{colour_title} %{{z:.3g}}"
                                         "<extra></extra>"))
        layout["xaxis" + suffix] = dict(domain=[left, left + width], range=[xmin, xmax], constrain="domain",
                                        anchor="y" + suffix)
        layout["yaxis" + suffix] = dict(range=[ymin, ymax], scaleanchor="x" + suffix, scaleratio=1,
                                        constrain="domain", anchor="x" + suffix, showticklabels=i == 0)
        annotations.append(dict(text=title, x=left + width / 2, y=1.0, xref="paper", yref="paper",
                                xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=13)))
    layout.update(
        coloraxis=dict(colorscale="Viridis", cmin=zmin, cmax=zmax,
                       colorbar=dict(title=dict(text=colour_title), thickness=12)),
        annotations=annotations,
        title=dict(text=f"step {view.step} · {kl_text(view.kl)}<br><sup>one colour scale for all three; "
                        "KL on this grid, each density renormalised over the box</sup>", font=dict(size=14)))
    return fast_figure(traces, layout)


def kl_table(view: DensityView) -> str:
    """Markdown: the three KLs, which way each goes, and how each density was obtained."""
    kl = view.kl
    generator = "the Langevin chains' density" if view.sampler == "langevin" else "p_G"
    return "\n".join([
        "| divergence (nats, on the grid) | value | what it measures |",
        "|---|---|---|",
        f"| KL(p_data ‖ p_E) | {kl['data_energy']:.3g} | how well the energy's density covers the data "
        "(expectation under the data; large where p_E misses data) |",
        f"| KL(p_data ‖ p_G) | {kl['data_generator']:.3g} | how well {generator} covers the data "
        "(large when modes are missing: collapse) |",
        f"| KL(p_G ‖ p_E) | {kl['generator_energy']:.3g} | the generator's own objective, "
        "E[E(G(z))] - H(p_G) + log Z, measured (expectation under p_G) |",
        "",
        f"**p_data**: {view.notes['data']}.  ",
        f"**p_E**: {view.notes['energy']}.  ",
        f"**{generator}**: {view.notes['generator']}.  ",
        f"KL is not symmetric: KL(p‖q) = Σ p log(p/q) Δ averages over p, so it punishes q for missing what p has. "
        f"Computed in {view.seconds:.2f} s.",
    ])


def not_2d_figure(message: str = NOT_2D, height: int = 200) -> dict:
    """A figure that only says why: marked as one of images, so the page shows the tab's table alone."""
    layout = dict(LAYOUT, height=height, xaxis=dict(visible=False), yaxis=dict(visible=False), meta=dict(kind=IMAGES),
                  annotations=[dict(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                                    font=dict(size=14))])
    return fast_figure([], layout)


ENTROPY_ROWS = (  # (history key, label, panel)
    ("entropy_grid", "H(p_G) on a grid (reference)", 1),
    ("entropy_knn", "kNN estimate (batch)", 1),
    ("entropy_batchnorm", "batch-norm surrogate Σ ½ log(2πe γ²)", 2),
    ("entropy_pullaway", "pull-away −PT (a score, not nats)", 3),
)


def entropy_figure(history: dict, current: dict | None = None, step: int = 0, total_steps: int | None = None,
                   note: str | None = None, height: int = 520) -> dict:
    """The generator's grid entropy (the reference) and each estimator, against steps.

    `history`: name -> (steps, values) as a run keeps it; `current`: values at `step` to mark
    (for a pair whose saved history lacks them, only this point is shown). Three panels sharing
    the step axis: nats (grid reference and kNN), the batch-norm surrogate (its own scale: a sum
    over BN units, not an entropy of the samples) and the pull-away score (not in nats)."""
    traces = []
    for key, label, panel in ENTROPY_ROWS:
        axis = "" if panel == 1 else str(panel)
        colour = GRID_COLOUR if key == "entropy_grid" else ESTIMATOR_COLOURS[key]
        width = 3 if key == "entropy_grid" else 1.5
        rows = history.get(key)
        if rows is not None and len(rows[0]):
            steps, values = thin(np.asarray(rows[0]), np.asarray(rows[1]))
            traces.append(dict(type="scatter", x=steps, y=values, mode="lines+markers" if len(steps) < 30 else "lines",
                               name=label, legendgroup=key, line=dict(color=colour, width=width),
                               xaxis="x" + axis, yaxis="y" + axis))
        if current and key in current:
            traces.append(dict(type="scatter", x=[step], y=[current[key]], mode="markers", name=label + " now",
                               legendgroup=key, showlegend=rows is None or not len(rows[0]),
                               marker=dict(color=colour, size=10, symbol="diamond"),
                               xaxis="x" + axis, yaxis="y" + axis))
    gap = 0.08
    heights = (0.5, 0.25, 0.25)
    tops = [1.0, 1.0 - heights[0], 1.0 - heights[0] - heights[1]]
    layout = dict(LAYOUT, height=height, margin=dict(l=60, r=20, t=70, b=40),
                  legend=dict(orientation="h", yanchor="bottom", y=1.04, xanchor="left", x=0.0))
    titles = ("nats: the generator's entropy measured on a grid, and the kNN estimate",
              "batch-norm surrogate (the paper's; a sum over BN units — its scale is not the samples' entropy)",
              "pull-away term −PT (EBGAN's diversity score; not in nats)")
    annotations = []
    for panel in (1, 2, 3):
        axis = "" if panel == 1 else str(panel)
        top, bottom = tops[panel - 1] - (gap if panel > 1 else 0.0), tops[panel - 1] - heights[panel - 1]
        layout["yaxis" + axis] = dict(domain=[max(0.0, bottom), top], anchor="x" + axis, zeroline=False)
        x_axis = dict(anchor="y" + axis, showticklabels=panel == 3)
        if panel > 1:
            x_axis["matches"] = "x"
        if panel == 3:
            x_axis["title"] = dict(text="step")
        if total_steps:
            x_axis["range"] = [0, max(total_steps, step)]
        layout["xaxis" + axis] = x_axis
        annotations.append(dict(text=titles[panel - 1], x=0.0, y=top, xref="paper", yref="paper", xanchor="left",
                                yanchor="bottom", showarrow=False, font=dict(size=11)))
    if note:
        annotations.append(dict(text=note, x=0.5, y=tops[0] - heights[0] / 2, xref="paper", yref="paper",
                                showarrow=False, font=dict(size=12, color="#555"), bgcolor="rgba(255,255,255,0.8)"))
    layout["annotations"] = annotations
    return fast_figure(traces, layout)
