"""The frame outputs (the landscape, curves and histogram, the status line and the page state) as
updates keyed by component: what explorer/page/frame_view.py says the page shows, put on the page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr

from explorer.page import frame_view
from explorer.page.state import PageState

if TYPE_CHECKING:
    from explorer.ui.page import Page


@dataclass(frozen=True)
class FrameOutputs:
    landscape: gr.HTML
    curves: gr.HTML
    histogram: gr.HTML
    status: gr.Markdown
    state: gr.State

    def __iter__(self):
        """The outputs in the order the API reports them (landscape, curves, histogram, status, state)."""
        return iter((self.landscape, self.curves, self.histogram, self.status, self.state))

    def updates(self, shown: frame_view.Shown, state: PageState) -> dict:
        """`shown` on the page; a figure it leaves out stays as it is."""
        updates = {self.status: shown.status, self.state: state}
        for figure, value in ((self.landscape, shown.landscape), (self.curves, shown.curves),
                              (self.histogram, shown.histogram)):
            if value is not None:
                updates[figure] = value
        return updates


def draw(page: Page, state: PageState, note: str | None = None, problem: str | None = None,
         side_plots: bool = True) -> dict:
    """The newest frame's figures (or the replayed frame's) and the status line."""
    return page.frame.updates(frame_view.newest(state, note, problem, side_plots), state)


def only_status(page: Page, state: PageState, note: str | None = None, problem: str | None = None,
                word: str | None = None, step: int | None = None) -> dict:
    """The status line alone (and the page state); the figures stay as they are."""
    return page.frame.updates(frame_view.status_only(state, note, problem, word, step), state)
