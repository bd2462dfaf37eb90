"""A plot that redraws in place, and the plotly.js it draws with.

gr.Plot re-creates its Plotly chart on every update (a full newPlot); streamed frames then pile
up in a slow browser. This view keeps one chart and calls Plotly.react, which only redraws what
changed (static/plot_view.js). plotly.js is served from this repository: nothing is fetched from
the web. It is plotly.js's "cartesian" bundle (npm plotly.js-cartesian-dist-min, MIT, the version
plotly.py bundles): every trace type the figures use (scatter, heatmap, contour, bar) in a third of the full bundle's
size, quicker for a new visitor's browser to fetch and compile (docs/speed.md).
"""
from __future__ import annotations

import os

import gradio as gr

from explorer.ui import static

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # explorer/ui/.. /..
PLOTLY_JS_DIR = os.path.join(ROOT, "assets", "js")
PLOTLY_JS_FILE = "plotly-cartesian-4.1.1.min.js"
# In the page's <head>, async: the browser fetches and compiles plotly.js off its main
# thread while Gradio's own scripts start, instead of after the first plot has mounted (what that
# saves: docs/speed.md). The views poll for it.
PLOTLY_HEAD = f'<script async src="/gradio_api/file={PLOTLY_JS_DIR}/{PLOTLY_JS_FILE}"></script>'
# The page's first figures. A new visitor's page used to ask for them with its load event, a
# round trip behind Gradio's own start-up (docs/speed.md). After launch the
# default pair's figures are put in the page itself (explorer/ui/server.py, serve_first_view), marked,
# and drawn as soon as plotly.js is ready; the load event's identical figures are then not drawn
# again. A page opened from a link (a query string) ignores them and waits for its own.
FIRST_VIEW_MARK = "/*first view*/"
FIRST_VIEWS = ("landscape", "curves", "histogram")
# what link.js fires after it rewrites the address: the charts re-point their url(#id) references
ADDRESS_EVENT = "energylab:address"


class PlotView(gr.HTML):
    """A gr.HTML that draws a Plotly figure, and keeps its own id in a session's copies.

    Works around a Gradio 6.31 leak: an output given gr.skip() is replaced in the session's state
    by a fresh copy of the component, which gets a new id; the next value sent to the output then
    files that copy, and the value, under the new id, and nothing removes them. A live run sends
    the curves and histograms as values on one frame in five and skips them otherwise, so every
    such frame kept a figure (docs/speed.md: how much a soak grew). A copy made for a
    session (render=False) takes the id of the view it copies, so it replaces that view's entry."""

    _ids: dict[str, int] = {}   # elem_id -> the id of the view built in the layout

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if kwargs.get("render", True):
            PlotView._ids[self.elem_id] = self._id
        elif self.elem_id in PlotView._ids:
            self._id = PlotView._ids[self.elem_id]


def plotly_view(elem_id: str, height: int, value: str | None = None) -> PlotView:
    """A view of `height` pixels; `value`: a figure's JSON to draw as soon as the page is up (by
    keyword: Gradio's wrapper of a component's __init__ drops a subclass's positional arguments)."""
    script = static.on_load_js("plot_view.js", FIRST_VIEW=FIRST_VIEW_MARK, ADDRESS_EVENT=ADDRESS_EVENT)
    return PlotView(value=value, html_template=f'<div class="energylab-plot" style="min-height:{height}px"></div>',
                    js_on_load=script, elem_id=elem_id, min_height=height)


def without_first_view_mark(figure):
    """A figure's JSON as drawn: a page that has not had its load event yet holds the marked first view."""
    return figure.removeprefix(FIRST_VIEW_MARK) if isinstance(figure, str) else figure
