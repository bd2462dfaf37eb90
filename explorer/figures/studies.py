"""Figures of a study (explorer/studies): each seed's value of one metric as a dot, per
configuration and method, with the mean and its 95 % interval beside the dots; and the table of
means with the published rows, for the page. Plain dicts, no torch, no Gradio.

The numbers are explorer/studies/summary.py's (`describe`: Student's t over seeds), so the page,
summary.json and summary.md agree.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer.figures.style import LAYOUT, fast_figure
from explorer.studies.spec import Study
from explorer.studies.summary import LABELS, PERCENT, describe, latest_by_key, markdown
from explorer.studies.worker import STATUS_DONE

METHOD_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
MEAN_COLOUR = "#222222"
SPREAD = 0.24      # the width over which a group's dots are spread sideways
MEAN_OFFSET = 0.3  # the mean's diamond, right of its dots


def label(metric: str) -> str:
    name = LABELS.get(metric, metric.replace("_", " "))
    return name + (" (%)" if metric in PERCENT and "%" not in name else "")


def metrics_shown(study: Study, records: list[dict]) -> list[str]:
    """The study's metrics that some finished run has a number for, in the study's order."""
    done = [r for r in latest_by_key(records).values() if r.get("status") == STATUS_DONE]
    return [m for m in study.metrics if any(_number(r["metrics"].get(m)) is not None for r in done)]


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def seed_values(study: Study, records: list[dict], metric: str) -> list[tuple[str, str, list[tuple[int, float]]]]:
    """[(configuration, method, [(seed, value)])] of one metric, every group in the study's order
    (a group nothing finished in yet has no values); percentages already in %."""
    by_key = latest_by_key(records)
    scale = 100.0 if metric in PERCENT else 1.0
    groups = []
    for configuration in study.configurations:
        for method in study.methods:
            values = []
            for task in study.tasks:
                record = by_key.get(task.key)
                if task.configuration != configuration or task.method != method or record is None:
                    continue
                value = _number(record.get("metrics", {}).get(metric)) if record["status"] == STATUS_DONE else None
                if value is not None:
                    values.append((task.seed, value * scale))
            groups.append((configuration, method, values))
    return groups


def dots_figure(study: Study, records: list[dict], metric: str, height: int = 400, title: str | None = None,
                empty_note: str = "no run has finished yet") -> go.Figure:
    """Each seed a dot (coloured by method), and for each configuration and method the mean, a
    diamond, with its 95 % interval as error bars (none with a single seed)."""
    groups = seed_values(study, records, metric)
    colour = {m: METHOD_COLOURS[i % len(METHOD_COLOURS)] for i, m in enumerate(study.methods)}
    traces, legend = [], set()
    means = {"x": [], "y": [], "half": [], "text": []}
    for i, (configuration, method, values) in enumerate(groups):
        if values:
            seeds, ys = zip(*values, strict=True)
            offsets = np.linspace(-SPREAD / 2, SPREAD / 2, len(ys)) if len(ys) > 1 else np.zeros(1)
            traces.append(dict(type="scatter", x=(i + offsets).tolist(), y=list(ys), mode="markers", name=method,
                               legendgroup=method, showlegend=method not in legend,
                               marker=dict(color=colour[method], size=9, opacity=0.75,
                                           line=dict(color="white", width=1)),
                               customdata=list(seeds),
                               hovertemplate=f"{configuration} · {method}<br>seed %{{customdata}}: %{{y:.4g}}"
                                             "<extra></extra>"))
            legend.add(method)
        stat = describe([v for _, v in values])
        if stat.get("n"):
            low, high = stat.get("ci95", (stat["mean"], stat["mean"]))
            means["x"].append(i + MEAN_OFFSET)
            means["y"].append(stat["mean"])
            means["half"].append(high - stat["mean"])
            means["text"].append(f"{configuration} · {method}: mean {stat['mean']:.4g}"
                                 + (f", 95 % interval [{low:.4g}, {high:.4g}]" if "ci95" in stat else "")
                                 + f" (n = {stat['n']})")
    if means["x"]:
        traces.append(dict(type="scatter", x=means["x"], y=means["y"], mode="markers", name="mean, 95 % interval",
                           marker=dict(color=MEAN_COLOUR, size=11, symbol="diamond"),
                           error_y=dict(type="data", array=means["half"], color=MEAN_COLOUR, thickness=1.5, width=6),
                           text=means["text"], hovertemplate="%{text}<extra></extra>"))
    ticks = [f"{c}<br>{m}" if len(study.configurations) > 1 else m for c, m, _ in groups]
    layout = dict(LAYOUT, height=height, showlegend=True,
                  title=dict(text=title or f"{label(metric)}: each seed a dot; ◆ mean and 95 % interval",
                             font=dict(size=14)),
                  xaxis=dict(tickmode="array", tickvals=list(range(len(groups))), ticktext=ticks,
                             range=[-0.6, len(groups) - 0.4], zeroline=False, showgrid=False),
                  yaxis=dict(title=dict(text=label(metric)), zeroline=False))
    if not any(values for _, _, values in groups):
        layout["annotations"] = [dict(text=empty_note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                                      font=dict(size=14, color="#7f7f7f"))]
        layout["yaxis"]["showticklabels"] = False
    return fast_figure(traces, layout)


def table_markdown(study: Study, summary: dict) -> str:
    """summary.md's table (mean ± standard error over seeds, the published rows beside it), for the
    page: without its title, which the page shows in its own words."""
    text = markdown(study, summary)
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
        if study.description and lines[:2] == ["", study.description]:
            lines = lines[2:]
    text = "\n".join(lines).strip() + "\n"
    return text.replace("summary.json has the 95 % intervals", "the figure above shows the 95 % intervals")
