"""The studio: draw your own data (the Draw tab), replay a run (the slider under the landscape),
export figures and the metric history (the row under the tabs).

Draw: a canvas over the box [-3, 3]^2 (explorer/data/drawing.py) whose points travel as the gr.HTML's
value, JSON [[x, y], ...]: the canvas sets props.value after each stroke, Undo and Clear, and a
handler reads it as an input ("Use these points") or sets it (a starter shape).
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from explorer.data import drawing
from explorer.page import downloads, frame_view, points, shown_controls
from explorer.page.controls import CONTROL_NAMES
from explorer.page.state import PageState
from explorer.ui import static
from explorer.ui.frames import draw, only_status
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind
from explorer.ui.plot_view import without_first_view_mark
from explorer.ui.tabs.train import control_updates

DRAW_PIXELS = 480
DRAW_NOTE = f"""**Draw your own data.** Click to add a point, drag to spray points along the stroke (the
brush sets how wide). You need at least {drawing.MIN_DRAWN} points, at most {drawing.MAX_DRAWN:,}. **Use these
points** makes them the `points` dataset (standardised, like an uploaded file) with the points preset's
settings (small networks, kNN entropy), and shows the new run at step 0: then press Train or Step."""


@dataclass
class DrawUI:
    canvas: gr.HTML
    starter_choice: gr.Dropdown
    starter_button: gr.Button
    use_button: gr.Button


@dataclass
class ExportUI:
    which: gr.Dropdown
    png_button: gr.Button
    html_button: gr.Button
    csv_button: gr.Button
    note: gr.Markdown
    file: gr.File


def create_draw_tab() -> DrawUI:
    with gr.Tab("Draw", id="draw-tab", elem_id="draw-tab"):
        gr.Markdown(DRAW_NOTE)
        canvas = gr.HTML("[]", html_template=static.html("draw.html", PIXELS=DRAW_PIXELS),
                         css_template=static.text("draw.css"),
                         js_on_load=static.on_load_js("draw.js", BOX=drawing.BOX, MIN=drawing.MIN_DRAWN,
                                                      MAX=drawing.MAX_DRAWN, SIZE=DRAW_PIXELS),
                         elem_id="draw-canvas", min_height=DRAW_PIXELS + 40)
        with gr.Row():
            starter_choice = gr.Dropdown(list(drawing.STARTERS), value="smiley", label="starter shape", min_width=140)
            starter_button = gr.Button("Draw the starter", elem_id="draw-starter")
            use_button = gr.Button("Use these points", variant="primary", elem_id="draw-use")
    return DrawUI(canvas, starter_choice, starter_button, use_button)


def create_export_row() -> ExportUI:
    with gr.Row(elem_id="export-row"):
        which = gr.Dropdown(list(downloads.FIGURE_VIEWS), value="landscape", label="export figure", min_width=140,
                            scale=2)
        png_button = gr.Button("PNG (your browser draws it)", elem_id="export-png", scale=2)
        html_button = gr.Button("HTML (works offline)", elem_id="export-html", scale=2)
        csv_button = gr.Button("CSV: metric history", elem_id="export-csv", scale=2)
    note = gr.Markdown("", elem_id="export-note")
    file = gr.File(label="exported file", visible=False, interactive=False, elem_id="export-file")
    return ExportUI(which, png_button, html_button, csv_button, note, file)


# ---------------------------------------------------------------------------- replay
@guarded()
def replay(page: Page, state: PageState, step):
    """The replay slider moved: show the kept frame nearest that step."""
    if not state.replay_cursor.move(state.live, step):
        return draw(page, state, "live")
    return page.frame.updates(frame_view.replayed(state), state)


@guarded()
def replay_released(page: Page, state: PageState, step):
    """The slider let go: the same frame, and the slider set to its step (the kept frame nearest
    where it was let go), so that a range update sent before the drag (while live, it moves the
    slider to the newest step) cannot win."""
    updates = replay(page, state, step)
    return updates | {page.landscape.replay_slider: gr.update(value=state.replay_cursor.released_at(state.live, step))}


@guarded()
def replay_live(page: Page, state: PageState):
    newest = state.replay_cursor.go_live(state.live)
    updates = draw(page, state, "live")
    if newest is not None:
        updates[page.landscape.replay_slider] = gr.update(value=newest)
    return updates


def replay_range(state):
    """The slider spans the kept frames; while live it follows the newest. Runs whenever the curves
    change (so its range grows while training) without touching the figures."""
    if not isinstance(state, PageState):
        return gr.skip()
    return gr.update(**state.replay_cursor.slider(state.live))


# ---------------------------------------------------------------------------- draw
@guarded()
def use_drawing(page: Page, state: PageState, drawn, *values):
    """The canvas's points become the points dataset: saved as a CSV, a new run from the points preset."""
    options, note = points.use_drawing(state, drawn, dict(zip(CONTROL_NAMES, values, strict=False)).get("seed"))
    return (draw(page, state, note) | control_updates(page, shown_controls.showing(options))
            | {page.tabs: gr.Tabs(selected="landscape-tab"), page.train.pretrained: gr.update(value=None)})


def draw_starter(name: str):
    """A starter drawing for the canvas (its value: JSON points)."""
    if name not in drawing.STARTERS:
        return gr.skip()
    return drawing.to_json(drawing.starter(name))


# ---------------------------------------------------------------------------- export
@guarded()
def export_html(page: Page, state: PageState, which: str, *shown):
    """The chosen figure, as the page shows it, as a standalone HTML file (plotly.js inline)."""
    path, note = downloads.figure_html(state, which, [without_first_view_mark(figure) for figure in shown])
    return only_status(page, state, note) | {page.export.file: gr.update(value=path, visible=True)}


@guarded()
def export_csv(page: Page, state: PageState):
    """The run's metric history: a step column and one column per metric, blank where not recorded."""
    path, note = downloads.history_csv(state)
    return only_status(page, state, note) | {page.export.file: gr.update(value=path, visible=True)}


def wire(page: Page) -> None:
    state, frame, slider = page.state, list(page.frame), page.landscape.replay_slider
    hidden = dict(show_progress="hidden", **MANY)
    # the curves change with every still frame and about 0.7 times a second while training (every
    # SIDE_PLOTS_EVERY-th frame): often enough for the slider, and a fifth of the requests of status
    page.landscape.curves.change(replay_range, [state], [slider], api_name="replay_range",
                                 trigger_mode="always_last", **hidden)
    slider.input(bind(replay, page), [state, slider], frame, api_name="replay", trigger_mode="always_last", **hidden)
    slider.release(bind(replay_released, page), [state, slider], frame + [slider], api_name=False, **hidden)
    page.landscape.live_button.click(bind(replay_live, page), [state], frame + [slider], api_name="replay_live",
                                     **hidden)
    canvas = page.draw
    canvas.use_button.click(bind(use_drawing, page), [state, canvas.canvas, *page.train.control_inputs],
                            frame + page.train.control_outputs + [page.tabs, page.train.pretrained],
                            api_name="use_drawing", **MANY)
    canvas.starter_button.click(draw_starter, [canvas.starter_choice], [canvas.canvas], api_name="draw_starter", **MANY)
    export, views = page.export, page.views
    export.png_button.click(None, [export.which], [export.note], js=static.event_js("export_png.js"), api_name=False)
    shown = [page.landscape.landscape, page.landscape.curves, page.landscape.histogram, views.gallery_plot,
             views.interpolation_plot, views.embedding_plot]   # in downloads.FIGURE_VIEWS order
    export.html_button.click(bind(export_html, page), [state, export.which, *shown], frame + [export.file],
                             js=static.event_js("chosen_figure.js", FIGURE_VIEWS=list(downloads.FIGURE_VIEWS)),
                             api_name="export_html", **MANY)
    export.csv_button.click(bind(export_csv, page), [state], frame + [export.file], api_name="export_csv", **MANY)
