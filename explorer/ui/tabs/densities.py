"""The Densities tab: p_data, p_E and p_G with their KLs, and the entropy curves (explorer/page/densities.py).
While training, the open tab redraws itself as the step moves."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from explorer.figures import densities as density_figures
from explorer.page import densities
from explorer.page.controls import status_markdown
from explorer.page.state import PageState
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind, bind_tab
from explorer.ui.plot_view import plotly_view

TICK_SECONDS = 3.0   # while training, the open Densities tab redraws this often (~0.2-0.5 s of work)
TAB_ID = "densities-tab"
TAB_LABEL = "Densities"


@dataclass
class DensitiesUI:
    tab: gr.Tab
    scale: gr.Radio
    refresh_button: gr.Button
    plot: gr.HTML
    table: gr.Markdown
    entropy_plot: gr.HTML
    timer: gr.Timer


def create_ui() -> DensitiesUI:
    with gr.Tab(TAB_LABEL, id=TAB_ID, elem_id=TAB_ID) as tab:
        with gr.Row(elem_id="densities-controls"):   # hidden with the figures for digits (page.css)
            scale = gr.Radio(list(density_figures.SCALES), value="log density", label="show (one scale for all three)",
                             elem_id="densities-scale")
            refresh_button = gr.Button("Refresh", elem_id="densities-refresh")
        plot = plotly_view("densities", 430)
        table = gr.Markdown(elem_id="densities-table")
        entropy_plot = plotly_view("entropies", 520)
        timer = gr.Timer(TICK_SECONDS, active=False)
    return DensitiesUI(tab, scale, refresh_button, plot, table, entropy_plot, timer)


@guarded()
def draw_densities(page: Page, state: PageState, scale, *, tab=None):
    """The Densities tab: p_data, p_E, p_G with their KLs, and the entropy curves. Returns the two
    figures, the table, the status line and the page state; bad input becomes a message. `tab`: set
    when the tab's select event drew it (the first draw after a link keeps the link's problem)."""
    shown = densities.density_tab(state.live, state.densities, scale)
    ui = page.densities
    return {ui.plot: shown.densities.to_json(), ui.entropy_plot: shown.entropy.to_json(), ui.table: shown.table,
            page.status: status_markdown(state.live.latest()[0], f"densities in {shown.seconds:.2f} s",
                                         state.link_problem_kept(tab)),
            page.state: state}


def tick_densities(page: Page, state, scale):
    """The timer, active while the tab is shown: redraw when the pair's step moved (training)."""
    if not isinstance(state, PageState) or not densities.needs_redraw(state.live, state.densities, scale):
        return {page.state: state}
    updates = draw_densities(page, state, scale)
    updates.pop(page.status, None)   # the status line stays the training's
    return updates


def densities_shown(event: gr.SelectData):
    """Any tab chosen: the Densities timer runs only while its tab is shown."""
    return gr.Timer(active=event.value == TAB_LABEL)   # Tabs.select carries the tab's label


def wire(page: Page) -> None:
    ui, state = page.densities, page.state
    inputs, outputs = [state, ui.scale], [ui.plot, ui.entropy_plot, ui.table, page.status, state]
    full = dict(show_progress="full", **MANY)
    ui.refresh_button.click(bind(draw_densities, page), inputs, outputs, api_name="densities", **full)
    ui.tab.select(bind_tab(draw_densities, page, TAB_ID.removesuffix("-tab")), inputs, outputs, api_name=False, **full)
    ui.scale.change(bind(draw_densities, page), inputs, outputs, api_name=False, **full)
    ui.timer.tick(bind(tick_densities, page), inputs, outputs, api_name=False, show_progress="hidden", **MANY)
    page.tabs.select(densities_shown, None, [ui.timer], api_name=False, **MANY)
