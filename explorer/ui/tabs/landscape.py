"""The Landscape tab: the energy landscape with its replay slider (wired in studio.py), the view
and its layers, the energy histograms and the training curves."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from explorer.figures import frame as figures
from explorer.page.state import PageState
from explorer.ui.frames import draw
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind
from explorer.ui.plot_view import plotly_view

REPLAY_INFO = ("scrub back through this run's frames (up to 200 kept, thinned evenly as the run grows); "
               "the right end, or Live, shows the newest")


@dataclass
class LandscapeUI:
    landscape: gr.HTML
    curves: gr.HTML
    histogram: gr.HTML
    replay_slider: gr.Slider
    live_button: gr.Button
    view: gr.Radio
    show_data: gr.Checkbox
    show_samples: gr.Checkbox
    show_arrows: gr.Checkbox
    show_latent: gr.Checkbox

    @property
    def layer_boxes(self) -> dict:
        """The layers' checkboxes by layer name (explorer/page/lesson.py LAYERS)."""
        return {"data": self.show_data, "samples": self.show_samples, "arrows": self.show_arrows,
                "latent": self.show_latent}

    @property
    def view_controls(self) -> list:
        return [self.view, self.show_data, self.show_samples, self.show_arrows, self.show_latent]


def create_ui() -> LandscapeUI:
    with gr.Tab("Landscape", id="landscape-tab"):
        landscape = plotly_view("landscape", 520)
        with gr.Row():   # studio: replay, under the landscape
            replay_slider = gr.Slider(0, 1, value=0, step=1, label="replay: step", info=REPLAY_INFO,
                                      elem_id="replay", scale=6, interactive=False)
            live_button = gr.Button("Live", elem_id="replay-live", scale=1, min_width=80)
        with gr.Row(elem_id="landscape-view-controls"):   # hidden for digits (page.css)
            view = gr.Radio(list(figures.LANDSCAPE_VIEWS), value="energy", label="show")
            show_data = gr.Checkbox(True, label="real data")
            show_samples = gr.Checkbox(True, label="generated samples")
            show_arrows = gr.Checkbox(False, label="-∇E arrows")
            show_latent = gr.Checkbox(False, label="latent grid G(z)")
        with gr.Row():
            histogram = plotly_view("histogram", 340)
            curves = plotly_view("curves", 520)
    return LandscapeUI(landscape, curves, histogram, replay_slider, live_button, view, show_data, show_samples,
                       show_arrows, show_latent)


@guarded()
def change_view(page: Page, state: PageState, view, show_data, show_samples, show_arrows, show_latent):
    if not state.set_view(view, show_data, show_samples, show_arrows, show_latent):
        return {page.state: state}   # already shown (a lesson step or link set it)
    return draw(page, state)


def wire(page: Page) -> None:
    view_inputs = [page.state, *page.landscape.view_controls]
    for control in page.landscape.view_controls:
        control.change(bind(change_view, page), view_inputs, list(page.frame), api_name=False,
                       show_progress="hidden", **MANY)
