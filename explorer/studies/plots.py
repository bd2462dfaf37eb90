"""A study's plots: each seed a dot, the mean and its 95 % interval beside them, one panel a metric.

PNG through matplotlib (drawn here, no browser needed) and a standalone HTML page through Plotly
(the vendored cartesian plotly.js inline, so the page opens offline).
"""
from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from explorer.figures.studies import label, metrics_shown, seed_values
from explorer.studies.spec import Study
from explorer.studies.summary import describe

PLOTLY_BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "js" / "plotly-cartesian-4.1.1.min.js"
DOT, MEAN = "#1f77b4", "#d62728"


def points(study: Study, records: list[dict], metric: str) -> list[tuple[str, list[float]]]:
    """[(group label, per-seed values)] for one metric, in the study's order (the page's figure's
    values: explorer/figures/studies.py, percentages in %)."""
    return [(f"{configuration} · {method}", [value for _, value in values])
            for configuration, method, values in seed_values(study, records, metric)]


def _interval(values: list[float]) -> tuple[float, float, float] | None:
    stat = describe(values)
    if not stat.get("n"):
        return None
    low, high = stat.get("ci95", [stat["mean"], stat["mean"]])
    return stat["mean"], low, high


def write_png(study: Study, records: list[dict], path: str) -> str | None:
    import matplotlib
    matplotlib.use("Agg")   # no screen needed
    import matplotlib.pyplot as plt
    metrics = metrics_shown(study, records)
    if not metrics:
        return None
    groups = len(study.configurations) * len(study.methods)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(6.0, 0.9 * groups + 2), 2.4 * len(metrics)),
                             squeeze=False)
    rng = np.random.default_rng(0)   # the dots' sideways jitter, the same every time
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        series = points(study, records, metric)
        for i, (_, values) in enumerate(series):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=14, color=DOT, alpha=0.6, zorder=2)
            interval = _interval(values)
            if interval:
                mean, low, high = interval
                ax.errorbar(i + 0.3, mean, yerr=[[mean - low], [high - mean]], fmt="D", color=MEAN, ms=5,
                            capsize=3, zorder=3)
        ax.set_ylabel(label(metric))
        ax.set_xticks(range(len(series)), [name for name, _ in series], rotation=30, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_title(f"study {study.name}: each seed a dot; red: mean and 95 % interval")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def figure(study: Study, records: list[dict]) -> go.Figure | None:
    metrics = metrics_shown(study, records)
    if not metrics:
        return None
    fig = make_subplots(rows=len(metrics), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label(m) for m in metrics])
    for row, metric in enumerate(metrics, start=1):
        for group, values in points(study, records, metric):
            fig.add_trace(go.Scatter(x=[group] * len(values), y=values, mode="markers", name=group,
                                     marker=dict(color=DOT, size=7, opacity=0.6), showlegend=False,
                                     hovertemplate=f"{group}<br>%{{y:.4g}}<extra></extra>"), row=row, col=1)
            interval = _interval(values)
            if interval:
                mean, low, high = interval
                fig.add_trace(go.Scatter(x=[group], y=[mean], mode="markers", showlegend=False,
                                         marker=dict(color=MEAN, size=10, symbol="diamond"),
                                         error_y=dict(type="data", symmetric=False, array=[high - mean],
                                                      arrayminus=[mean - low], color=MEAN),
                                         hovertemplate=f"{group}: mean %{{y:.4g}} [{low:.4g}, {high:.4g}]"
                                                       "<extra></extra>"), row=row, col=1)
    fig.update_layout(template="plotly_white", height=260 * len(metrics) + 120, margin=dict(l=60, r=20, t=60, b=40),
                      title=f"study {study.name}: each seed a dot; red: mean and 95 % interval")
    return fig


def write_html(study: Study, records: list[dict], path: str) -> str | None:
    fig = figure(study, records)
    if fig is None:
        return None
    body = pio.to_html(fig, include_plotlyjs=False, full_html=False)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(study.name)}</title>"
            f"<script>{PLOTLY_BUNDLE.read_text()}</script></head><body>{body}</body></html>")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


def write_plots(study: Study, records: list[dict], folder: str) -> list[str]:
    return [p for p in (write_png(study, records, os.path.join(folder, "plots.png")),
                        write_html(study, records, os.path.join(folder, "plots.html"))) if p]
