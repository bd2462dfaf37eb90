"""The page: the introduction; the lesson, the status line, the tabs and the export row first (the
left column, or the top on a narrow screen), so that a projected page leads with the lesson and
the picture; the controls beside them. Each part is made by its module in explorer/ui/tabs/, then wired.

Each browser page owns one PageState (its run and training thread, explorer/page/state.py), kept
in gr.State: made by the first handler that runs, returned with every frame.
"""
from __future__ import annotations

import gradio as gr

from explorer.pairs import catalogue
from explorer.ui.page import Page
from explorer.ui.plot_view import PLOTLY_JS_DIR
from explorer.ui.sessions import close_state
from explorer.ui.tabs import compare, densities, field_checks, landscape, lesson, studies, studio, train, views

INTRO = """# EnergyLab
**Deep directed generative models with energy-based probability estimation** (Kim & Bengio, 2016).
An energy function *E(x)* and a generator *G(z)* learn together: the energy pushes real data down and
generated samples up, `L_E = E[E(x_data)] - E[E(G(z))]`; the generator minimises
`KL(p_G || p_E) = E[E(G(z))] - H(p_G)` + const, so it samples from `p_E(x) = exp(-E(x)) / Z` without MCMC.
With the paper's plain negatives, the entropy term *H* keeps it from collapsing onto a few wells: the
**Lesson** (steps 4 and 5) and the **Compare** tab (entropy weight 0 against 1) show the collapse. The pair
shown first is EnergyLab's method, whose `exp(-E)/Z` is a density of the data (its generator keeps the
modes even without *H*: docs/studies.md); choose `ring-paper` for the paper's own setting, or **method**
among the controls to train either."""


def build_page() -> Page:
    """The page's layout and every event, wired; `.blocks` is the Gradio app."""
    gr.set_static_paths([PLOTLY_JS_DIR])   # plotly.js, served from this repository (explorer/ui/plot_view.py)
    with gr.Blocks(title="EnergyLab", analytics_enabled=False) as blocks:  # nothing leaves the machine
        state = gr.State(None, delete_callback=close_state)
        gr.Markdown(INTRO)
        with gr.Row():
            # the lesson and the picture first in reading order; a narrow screen stacks the controls below
            with gr.Column(scale=2, min_width=560, elem_id="lesson-column"):
                lesson_ui = lesson.create_ui()
                status = gr.Markdown("Loading…", elem_id="status")
                with gr.Tabs(overflow_behavior="wrap") as tabs:   # every tab in view, on two rows if need be
                    landscape_ui = landscape.create_ui()
                    compare_ui = compare.create_ui()
                    views_ui = views.create_ui()
                    draw_ui = studio.create_draw_tab()
                    densities_ui = densities.create_ui()
                    studies_ui = studies.create_ui()
                export_ui = studio.create_export_row()
            with gr.Column(scale=1, min_width=320, elem_id="controls-column"):
                train_ui = train.create_ui(catalogue.pretrained_pairs())
        page = Page(blocks, state, status, tabs, train_ui, lesson_ui, landscape_ui, compare_ui, views_ui, draw_ui,
                    densities_ui, studies_ui, export_ui)
        # the lesson last: its link follows the events of the others, on the same triggers
        for tab in (train, field_checks, landscape, views, compare, studio, lesson, densities, studies):
            tab.wire(page)
    return page


def build_app() -> gr.Blocks:
    return build_page().blocks
