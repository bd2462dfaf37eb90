"""What the page's frame outputs show: the landscape, the curves, the histogram and the status line,
for the page's newest frame or for the earlier one it replays.

Figures are Plotly JSON; a figure left out (None) stays as the page shows it. While training,
contours and (but on every SIDE_PLOTS_EVERY-th frame) the side plots are left out, so that a
small machine's browser redraws less and leaves the CPU to training. While the page's run waits
for a place (explorer/training/turns.py), the status line says its place in the line instead of
"training".
"""
from __future__ import annotations

from dataclasses import dataclass

from explorer.figures import frame as figures
from explorer.page import controls
from explorer.page.replay_cursor import replaying_note
from explorer.page.state import PageState
from explorer.training import replay

SIDE_PLOTS_EVERY = 5   # while training, curves and histograms come with every 5th frame (about 0.7 a second)


@dataclass(frozen=True)
class Shown:
    status: str
    landscape: str | None = None
    curves: str | None = None
    histogram: str | None = None


def shows_images(frame) -> bool:
    return frame.real.shape[1] != 2


def curves_of(frame):
    """The run's curves as of `frame`: the panels that apply to its data, the step axis grown to its step."""
    return figures.curves_figure(frame.history, frame.total_steps, step=frame.step, images=shows_images(frame))


def status_only(state: PageState, note: str | None = None, problem: str | None = None,
                word: str | None = None, step: int | None = None) -> Shown:
    """The status line of the newest frame (`word` and `step` as controls.status_markdown's state
    and step); the figures stay as they are."""
    state.link_problem_kept()   # a status line for anything but the link's own tab: the link's problem is over
    return Shown(controls.status_markdown(state.live.latest()[0], note or closed_note(state), problem,
                                          word or waiting_word(state), step))


def waiting_word(state: PageState) -> str | None:
    """'waiting: place 3 of 5, about 40 s' while the page's run waits for a place (and 'your run
    is waiting: ...' while the page shows a pair meanwhile), else None."""
    waiting = (state.aside or state.live).waiting()
    if waiting is None:
        return None
    return f"your run is {waiting.words()}" if state.aside is not None else waiting.words()


def closed_note(state: PageState) -> str | None:
    """Why the page's run was dropped without its asking (its page stopped reading), if it was."""
    closed = state.live.closed
    return f"{closed}: press Train to start again" if closed else None


def newest(state: PageState, note: str | None = None, problem: str | None = None, side_plots: bool = True) -> Shown:
    """The figures and the status line of the page's newest frame (or of the frame it replays)."""
    frame, _ = state.live.latest()
    state.link_problem_kept()   # as status_only
    status = controls.status_markdown(frame, note or closed_note(state), problem, waiting_word(state))
    if frame is None:
        return Shown(status)
    training = bool(frame.info.get("training"))
    if state.replay_cursor.replaying(state.live):
        return replayed(state, note, problem, redraw=not training, curves=not training or side_plots)
    landscape = figures.landscape_figure(frame, **state.view, contours=not training).to_json()
    if training and not side_plots:
        return Shown(status, landscape)
    return Shown(status, landscape, curves_of(frame).to_json(), figures.histogram_figure(frame).to_json())


def replayed(state: PageState, note: str | None = None, problem: str | None = None, redraw: bool = True,
             curves: bool = True) -> Shown:
    """A replayed frame: its landscape and histogram, the run's curves marked at its step. Frames
    streamed while training bring the status line and, with `curves`, the curves (whose change
    moves the slider's range on); `redraw` redraws the replayed frame too."""
    latest, _ = state.live.latest()
    state.link_problem_kept()   # as status_only
    shown = state.live.replay.nearest(state.replay_cursor.step)
    status = controls.status_markdown(latest, replaying_note(shown.step, note), problem, waiting_word(state))
    curves_json = None
    if curves or redraw:
        figure = curves_of(latest)
        panels = len(figures.curve_panels(shows_images(latest)))
        figure.update_layout(shapes=replay.step_marker_shapes(shown.step, panels))
        curves_json = figure.to_json()
    if not redraw:
        return Shown(status, curves=curves_json)
    return Shown(status, figures.landscape_figure(shown, **state.view, contours=True).to_json(), curves_json,
                 figures.histogram_figure(shown).to_json())
