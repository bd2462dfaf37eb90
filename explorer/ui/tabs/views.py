"""The Gallery, Interpolation and Embedding (UMAP) tabs: views of the page's current pair
(explorer/page/views.py), drawn when the tab opens or its button is pressed."""
from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr

from explorer.config.options import OPTION_BY_NAME
from explorer.figures import views as view_figures
from explorer.page import views
from explorer.page.controls import status_markdown, whole_number
from explorer.page.state import PageState
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind, bind_tab
from explorer.ui.plot_view import plotly_view

UMAP_NOTE = """**What UMAP shows, and what it does not.** Real data and generated samples are embedded together,
from their 15 nearest neighbours in data space. Points close in the plot are close in data space;
distances between clusters, their sizes and densities are *not* faithful. A collapsed generator shows
as generated points piled on a few islands, leaving real clusters without generated points; generated
points far from every real one are samples unlike any real one. For digits, hover a point to see its
image. Computed on demand, cached for the pair at this step; a later step of the same run starts from the last \
layout."""
SORT_INFO = "images in order of energy; 2-D samples numbered from #0, the lowest (the numbers Interpolation uses)"
INTERPOLATION_NOTE = ("Press **▶ play** under the figure to animate, or drag its slider. Linear paths stay inside the "
                      "latent cube U(-1, 1)^d; spherical ones (slerp) keep the norm and may leave it.")


@dataclass
class ViewsUI:
    gallery_tab: gr.Tab
    gallery_size: gr.Dropdown
    gallery_seed: gr.Number
    gallery_sort: gr.Checkbox
    gallery_button: gr.Button
    resample_button: gr.Button
    gallery_plot: gr.HTML
    interpolation_tab: gr.Tab
    endpoints: gr.Radio
    first_sample: gr.Number
    second_sample: gr.Number
    interpolation_seed: gr.Number
    interpolation_steps: gr.Slider
    interpolation_method: gr.Radio
    interpolate_button: gr.Button
    interpolation_plot: gr.HTML
    embedding_tab: gr.Tab
    colour_by: gr.Radio
    embed_button: gr.Button
    embedding_plot: gr.HTML


def create_ui() -> ViewsUI:
    with gr.Tab("Gallery", id="gallery-tab", elem_id="gallery-tab") as gallery_tab:
        with gr.Row():
            gallery_size = gr.Dropdown([16, 64, 100, 200, 400], value=64, label="samples")
            gallery_seed = gr.Number(0, label="seed", precision=0)
            gallery_sort = gr.Checkbox(False, label="sort by energy (lowest first)", info=SORT_INFO)
            gallery_button = gr.Button("Draw", elem_id="gallery-draw")
            resample_button = gr.Button("Resample (new seed)", elem_id="gallery-resample")
        gallery_plot = plotly_view("gallery", 560)
    with gr.Tab("Interpolation", id="interpolation-tab", elem_id="interpolation-tab") as interpolation_tab:
        with gr.Row():
            endpoints = gr.Radio([("two random latents", "random"), ("two gallery samples", "gallery")],
                                 value="random", label="endpoints")
            first_sample = gr.Number(0, label="gallery sample #", precision=0)
            second_sample = gr.Number(1, label="to gallery sample #", precision=0)
            interpolation_seed = gr.Number(0, label="seed (random latents)", precision=0)
        with gr.Row():
            interpolation_steps = gr.Slider(2, 64, value=24, step=1, label="steps")
            interpolation_method = gr.Radio(["linear", "spherical"], value="linear", label="path")
            interpolate_button = gr.Button("Interpolate", elem_id="interpolate")
        interpolation_plot = plotly_view("interpolation", 620)
        gr.Markdown(INTERPOLATION_NOTE)
    with gr.Tab("Embedding (UMAP)", id="embedding-tab", elem_id="embedding-tab") as embedding_tab:
        with gr.Row():
            # "class" is hidden by page.css unless the pair is of digits (the landscape's data-kind)
            colour_by = gr.Radio(list(view_figures.COLOUR_BY), value="source", label="colour by", elem_id="colour-by")
            embed_button = gr.Button("Compute UMAP", elem_id="embed")
        # not a blank panel before the first UMAP: what it will show and how long the first one takes
        embedding_plot = plotly_view("embedding", 600, value=view_figures.embedding_placeholder().to_json())
        gr.Markdown(UMAP_NOTE)
    return ViewsUI(gallery_tab, gallery_size, gallery_seed, gallery_sort, gallery_button, resample_button,
                   gallery_plot, interpolation_tab, endpoints, first_sample, second_sample, interpolation_seed,
                   interpolation_steps, interpolation_method, interpolate_button, interpolation_plot, embedding_tab,
                   colour_by, embed_button, embedding_plot)


def view_seed(seed) -> int:
    """The views' seed, within the bounds of every seed (numpy refuses a negative one)."""
    return whole_number(seed, "seed", 0, int(OPTION_BY_NAME["seed"].high))


def shown(page: Page, state: PageState, plot: gr.HTML, figure, note: str, tab: str | None) -> dict:
    """The view's figure and the status line; `tab`: the tab whose select event drew it (None: a button),
    whose first draw after a link keeps the link's problem in the status line."""
    return {plot: figure.to_json(), page.status: status_markdown(state.live.latest()[0], note,
                                                                 state.link_problem_kept(tab)), page.state: state}


# Gradio fills in each handler's gr.Progress default (the guard keeps the signature it reads)
@guarded()
def draw_gallery(page: Page, state: PageState, size, seed, sort, progress=gr.Progress(), *, tab=None):
    started = time.perf_counter()
    figure = views.gallery(state.live, state.views, whole_number(size, "samples"), view_seed(seed),
                           bool(sort))
    return shown(page, state, page.views.gallery_plot, figure, f"gallery in {time.perf_counter() - started:.2f} s",
                 tab)


def resample_seed(seed):
    return (int(seed) + 1) if isinstance(seed, (int, float)) and seed == seed else 0


@guarded()
def draw_interpolation(page: Page, state: PageState, endpoints, first, second, seed, steps, method,
                       progress=gr.Progress(), *, tab=None):
    started = time.perf_counter()
    figure = views.interpolation(state.live, state.views, endpoints, whole_number(first, "sample #"),
                                 whole_number(second, "sample #"), view_seed(seed),
                                 whole_number(steps, "steps"), method)
    return shown(page, state, page.views.interpolation_plot, figure,
                 f"interpolation in {time.perf_counter() - started:.2f} s", tab)


@guarded()
def announce_embedding(page: Page, state: PageState) -> dict:
    """At once on a press (before the UMAP's own event): a layout from scratch takes seconds, the
    first after the server starts 20-40 s, so the view says it is computing instead of keeping a
    blank panel or another pair's picture. A later step of the same run keeps its picture meanwhile."""
    if not views.embedding_needs_fresh_layout(state.live, state.views):
        return {page.state: state}
    computing = view_figures.embedding_placeholder(computing=True, first=views.first_umap_in_process())
    return {page.views.embedding_plot: computing.to_json(), page.state: state}


@guarded()
def draw_embedding(page: Page, state: PageState, colour_by, progress=gr.Progress()):
    figure, result = views.embedding(state.live, state.views, colour_by, progress=progress)
    note = f"UMAP in {result.seconds:.1f} s{' (from the last layout)' if result.warm_start else ''}"
    used = views.colouring(state.live, colour_by)
    if used != colour_by:   # "class" left chosen from a digits pair: the radio shows what was drawn
        note += f"; coloured by {used}: colour by class is for digits"
    updates = shown(page, state, page.views.embedding_plot, figure, note, None)
    if used != colour_by:
        updates[page.views.colour_by] = used
    return updates


def wire(page: Page) -> None:
    ui, state = page.views, page.state
    full = dict(show_progress="full", **MANY)
    gallery_inputs = [state, ui.gallery_size, ui.gallery_seed, ui.gallery_sort]
    gallery_outputs = [ui.gallery_plot, page.status, state]
    ui.gallery_button.click(bind(draw_gallery, page), gallery_inputs, gallery_outputs, api_name="gallery", **full)
    ui.gallery_tab.select(bind_tab(draw_gallery, page, "gallery"), gallery_inputs, gallery_outputs, api_name=False,
                          **full)
    ui.resample_button.click(resample_seed, [ui.gallery_seed], [ui.gallery_seed], api_name=False, **MANY).then(
        bind(draw_gallery, page), gallery_inputs, gallery_outputs, api_name=False, **full)
    interpolation_inputs = [state, ui.endpoints, ui.first_sample, ui.second_sample, ui.interpolation_seed,
                            ui.interpolation_steps, ui.interpolation_method]
    interpolation_outputs = [ui.interpolation_plot, page.status, state]
    ui.interpolate_button.click(bind(draw_interpolation, page), interpolation_inputs, interpolation_outputs,
                                api_name="interpolate", **full)
    ui.interpolation_tab.select(bind_tab(draw_interpolation, page, "interpolation"), interpolation_inputs,
                                interpolation_outputs, api_name=False, **full)
    embedding_outputs = [ui.embedding_plot, page.status, state, ui.colour_by]
    for event, api_name in ((ui.embed_button.click, "embedding"), (ui.colour_by.input, False)):
        event(bind(announce_embedding, page), [state], embedding_outputs, api_name=False, show_progress="hidden",
              **MANY).then(bind(draw_embedding, page), [state, ui.colour_by], embedding_outputs, api_name=api_name,
                           **full)
