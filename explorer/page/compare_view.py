"""The Compare tab: starting a page's comparison, and what the tab shows of it (both landscapes,
the coverage chart and its own status line, as Plotly JSON and Markdown).

The two runs themselves are explorer/page/compare.py's Comparison.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from explorer.config.options import OPTION_BY_NAME
from explorer.config.presets import preset_options
from explorer.figures import compare as compare_figures
from explorer.figures import frame as figures
from explorer.page import compare
from explorer.page.controls import whole_number
from explorer.page.state import PageState

NOTHING_YET = "Press Train both."


@dataclass(frozen=True)
class ComparisonShown:
    status: str
    left: str | None = None    # None: the figure stays as the page shows it
    right: str | None = None
    chart: str | None = None


def preset_steps(preset: str) -> int:
    """The steps a preset trains for (the Compare tab's steps follow the chosen preset)."""
    return int(preset_options(preset).get("steps", OPTION_BY_NAME["steps"].default))


def start(state: PageState, preset, contrast, estimator_left, estimator_right, seed, steps) -> None:
    """Train both sides: a paused comparison of the same settings continues, anything else starts
    afresh. The page's own run pauses, so that both cores go to the comparison."""
    left, right, names = compare.side_options(preset, contrast, whole_number(seed, "seed"),
                                              (estimator_left, estimator_right), whole_number(steps, "steps"))
    comparison = state.comparison
    if (comparison is None or comparison.dropped or comparison.done or comparison.names != names
            or (comparison.sides[0].run.options, comparison.sides[1].run.options) != (left, right)):
        if comparison is not None:
            comparison.close()
        state.comparison = compare.Comparison(left, right, names, device=state.live.device, turns=state.live.turns)
    state.end_aside()
    state.live.stop(wait=False)
    state.comparison.start()


def coverage_rows(comparison: compare.Comparison) -> int:
    """How many coverage evaluations both sides have recorded (the chart changes when this does)."""
    return sum(len(steps) for steps, _ in comparison.coverage()["curves"].values())


def shown(state: PageState, note: str | None = None, problem: str | None = None, chart: bool = True) -> ComparisonShown:
    """Both landscapes, the coverage chart (with `chart`) and the status of the page's comparison."""
    comparison = state.comparison
    if comparison is not None and comparison.dropped:
        note = note or f"{comparison.dropped}: press Train both to start again"
        comparison = None
    if comparison is None:
        return ComparisonShown(f"⚠️ {html.escape(problem)}" if problem else html.escape(note or NOTHING_YET))
    (left, right), _ = comparison.frames()
    landscapes = []
    for frame, name in zip((left, right), comparison.names, strict=True):
        if frame is None:
            landscapes.append(None)
            continue
        training = bool(frame.info.get("training"))
        landscapes.append(figures.landscape_figure(frame, contours=not training, height=440,
                                                   title=f"{name} · step {frame.step:,}").to_json())
    coverage = comparison.coverage()
    chart_json = compare_figures.coverage_figure(coverage, comparison.options["steps"]).to_json() if chart else None
    return ComparisonShown(status(comparison, coverage, note, problem), *landscapes, chart_json)


def status(comparison: compare.Comparison, coverage: dict, note: str | None = None, problem: str | None = None) -> str:
    """The Compare tab's status line: its state, each side's step and speed, the contrast so far,
    a note, and any warning."""
    steps = " · ".join(f"{name} step {side.run.step:,}" + (f" ({side.throughput:,.0f}/s)" if side.throughput else "")
                       for name, side in zip(comparison.names, comparison.sides, strict=True))
    text = f"**{comparison.state}** · {html.escape(steps)}  \n{compare_figures.contrast_summary(coverage)}"
    if note:
        text += f"  \n{html.escape(note)}"
    for side in comparison.sides:
        for warning in (side.run.warning, side.error):
            if warning:
                text += f"  \n⚠️ {html.escape(str(warning))}"
    if problem:
        text += f"  \n⚠️ {html.escape(problem)}"
    return text
