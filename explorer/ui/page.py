"""Every component of the page, by the part of the page it belongs to: what the handlers key their
updates by. Built by explorer/ui/layout.py; each part is made by its tab's `create_ui`."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr

from explorer.ui.frames import FrameOutputs

if TYPE_CHECKING:
    from explorer.ui.tabs.compare import CompareUI
    from explorer.ui.tabs.densities import DensitiesUI
    from explorer.ui.tabs.landscape import LandscapeUI
    from explorer.ui.tabs.lesson import LessonUI
    from explorer.ui.tabs.studies import StudiesUI
    from explorer.ui.tabs.studio import DrawUI, ExportUI
    from explorer.ui.tabs.train import TrainUI
    from explorer.ui.tabs.views import ViewsUI

MANY = {"concurrency_limit": None}   # per-page work: one user's run never queues another's


@dataclass
class Page:
    blocks: gr.Blocks
    state: gr.State          # the page's PageState (explorer/page/state.py)
    status: gr.Markdown      # the status line over the tabs
    tabs: gr.Tabs
    train: TrainUI           # the controls column: pair and its files, training buttons, the controls
    lesson: LessonUI         # the lesson, the link and classroom mode
    landscape: LandscapeUI
    compare: CompareUI
    views: ViewsUI           # gallery, interpolation, embedding
    draw: DrawUI
    densities: DensitiesUI
    studies: StudiesUI       # the shipped studies and the page's small study
    export: ExportUI

    @property
    def frame(self) -> FrameOutputs:
        return FrameOutputs(self.landscape.landscape, self.landscape.curves, self.landscape.histogram, self.status,
                            self.state)


def bind(handler, page: Page):
    """`handler(page, ...)` as Gradio calls it, with the page's components bound: Gradio reads the
    rest of its signature (the inputs, and a gr.Progress default it fills in)."""
    bound = functools.partial(handler, page)
    bound.__name__, bound.__doc__ = handler.__name__, handler.__doc__   # the API page describes it
    return bound


def bind_tab(handler, page: Page, tab: str):
    """`handler(page, ..., tab=tab)` for the select event of the tab it draws: a tab's first draw
    after a link opened it keeps the link's problem in the status line (PageState.link_problem_kept)."""
    bound = functools.partial(handler, page, tab=tab)
    bound.__name__, bound.__doc__ = f"{handler.__name__}_on_select", handler.__doc__
    return bound
