"""Figures of the Compare view: the coverage chart of two runs (their landscapes are the usual
frame.landscape_figure, one per side). Plain dicts, no torch, no Gradio."""
from __future__ import annotations

import plotly.graph_objects as go

from explorer.figures.style import LAYOUT, fast_figure

SIDE_COLOURS = ("#d62728", "#2ca02c")   # left (often the collapsing side), right


def coverage_figure(coverage: dict, total_steps: int, height: int = 330) -> go.Figure:
    """Modes (or classes) covered against steps, one line per side, the total dashed.

    `coverage` is Comparison.coverage(): {"label", "total", "curves": {name: (steps, values)}}."""
    traces = []
    latest = []
    for (name, (steps, values)), colour in zip(coverage["curves"].items(), SIDE_COLOURS, strict=False):
        traces.append(dict(type="scatter", x=steps, y=values, mode="lines+markers", name=name,
                           line=dict(color=colour, width=2), marker=dict(size=6),
                           hovertemplate="step %{x:,}: %{y:g}<extra>" + name + "</extra>"))
        latest.append(f"{name}: {values[-1]:g}" if len(values) else f"{name}: not yet measured")
    total = coverage["total"]
    if total:
        traces.append(dict(type="scatter", x=[0, total_steps], y=[total, total], mode="lines", name=f"all {total}",
                           line=dict(color="#7f7f7f", dash="dash", width=1), hoverinfo="skip"))
    title = f"{coverage['label']} · " + " · ".join(latest)
    layout = dict(LAYOUT, height=height, title=dict(text=title, font=dict(size=14)),
                  xaxis=dict(title=dict(text="step"), range=[0, total_steps]),
                  yaxis=dict(title=dict(text=coverage["label"]), range=[0, (total or _top(coverage)) * 1.08],
                             rangemode="tozero"))
    return fast_figure(traces, layout)


def _top(coverage: dict) -> float:
    values = [v.max() for _, v in coverage["curves"].values() if len(v)]
    return float(max(values)) if values else 1.0


def contrast_summary(coverage: dict) -> str:
    """One line in words: the newest coverage of each side, and the gap."""
    parts = []
    newest = []
    for name, (steps, values) in coverage["curves"].items():
        if len(values):
            parts.append(f"**{name}**: {values[-1]:g}{'/' + str(coverage['total']) if coverage['total'] else ''} "
                         f"at step {int(steps[-1]):,}")
            newest.append(float(values[-1]))
        else:
            parts.append(f"**{name}**: not measured yet (every 250 steps)")
    text = " · ".join(parts)
    if len(newest) == 2 and coverage["total"]:
        gap = abs(newest[1] - newest[0])
        text += f" · gap {gap:g} {coverage['label'].split(' (')[0]}"
    return text
