"""The Compare tab: two runs, identical but for one setting, trained side by side (explorer/page/compare.py)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr

from explorer.config.presets import PRESETS
from explorer.page import compare, compare_view
from explorer.page.state import PageState
from explorer.training.live import FRAME_SECONDS
from explorer.ui import static
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind
from explorer.ui.plot_view import plotly_view
from explorer.ui.sessions import remember_this_page, still_reading

COMPARE_NOTE = """Both runs share **everything** but the one setting: the seed, so the same data batches, the same
initial networks and the same latent draws; only that setting makes them drift apart. Coverage is measured every
250 steps on 1,000 samples (a mode counts as covered when a sample lies within 3 std of its centre).
Train here pauses the main panel's run, and the main panel's Train pauses this comparison, so the two cores go to
what you are watching."""


@dataclass
class CompareUI:
    preset: gr.Dropdown
    contrast: gr.Radio
    left_estimator: gr.Dropdown
    right_estimator: gr.Dropdown
    seed: gr.Number
    steps: gr.Number
    train_button: gr.Button
    pause_button: gr.Button
    stop_button: gr.Button
    status: gr.Markdown
    left_plot: gr.HTML
    right_plot: gr.HTML
    chart: gr.HTML
    click_age: gr.Number   # hidden: Train both's request says how old its click is (explorer/page/train_clicks.py)
    halt_age: gr.Number    # ... and how old the tab's last click on Pause or Stop


def create_ui() -> CompareUI:
    with gr.Tab("Compare", id="compare-tab", elem_id="compare-tab"):
        with gr.Row():
            preset = gr.Dropdown([name for name in PRESETS if name != "points"], value=compare.DEFAULT_PRESET,
                                 label="preset")
            contrast = gr.Radio([(c.label, c.key) for c in compare.CONTRASTS.values()], value="entropy",
                                label="what differs")
            left_estimator = gr.Dropdown(list(compare.ESTIMATOR_CHOICES), value="batchnorm", label="left estimator",
                                         visible=False)
            right_estimator = gr.Dropdown(list(compare.ESTIMATOR_CHOICES), value="knn", label="right estimator",
                                          visible=False)
        with gr.Row():
            seed = gr.Number(0, label="seed (both runs)", precision=0)
            steps = gr.Number(compare_view.preset_steps(compare.DEFAULT_PRESET), label="steps", precision=0)
            train_button = gr.Button("Train both", variant="primary", elem_id="compare-train")
            pause_button = gr.Button("Pause", elem_id="compare-pause")
            stop_button = gr.Button("Stop", variant="stop", elem_id="compare-stop")
            click_age = gr.Number(0, visible=False, label="ms since the click on Train both",
                                  elem_id="compare-click-age")
            halt_age = gr.Number(-1, visible=False, label="ms since the click on Pause or Stop (-1: none)",
                                 elem_id="compare-halt-age")
        status = gr.Markdown("Press **Train both**: two runs, identical but for one setting, train side by side.",
                             elem_id="compare-status")
        with gr.Row():
            left_plot = plotly_view("compare-left", 440)
            right_plot = plotly_view("compare-right", 440)
        chart = plotly_view("compare-coverage", 330)
        gr.Markdown(COMPARE_NOTE)
    return CompareUI(preset, contrast, left_estimator, right_estimator, seed, steps, train_button, pause_button,
                     stop_button, status, left_plot, right_plot, chart, click_age, halt_age)


def comparison(page: Page, state: PageState, note: str | None = None, problem: str | None = None,
               chart: bool = True) -> dict:
    """Both landscapes, the coverage chart (with `chart`) and the tab's status line; a figure not
    there yet stays as it is."""
    shown, ui = compare_view.shown(state, note, problem, chart), page.compare
    updates = {ui.status: shown.status, page.state: state}
    for plot, value in ((ui.left_plot, shown.left), (ui.right_plot, shown.right), (ui.chart, shown.chart)):
        if value is not None:
            updates[plot] = value
    return updates


@guarded(show=comparison)
def compare_train(page: Page, state: PageState, preset, contrast, estimator_left, estimator_right, seed, steps,
                  click_age=None, halt_age=None):
    """Train both sides together (continuing a paused comparison of the same settings) and stream frames.
    A click the page held while both trained, with no Pause or Stop after it, does nothing
    (explorer/page/train_clicks.py)."""
    settings = (preset, contrast, estimator_left, estimator_right, seed, steps)
    yield from state.compare_clicks.stream(click_age, halt_age, lambda: stream_comparison(page, state, *settings),
                                           lambda: comparison(page, state))


def stream_comparison(page: Page, state: PageState, *settings):
    """Train both's stream: both runs train, their frames sent as they come, until they pause or end."""
    compare_view.start(state, *settings)
    remember_this_page(state)   # an API client's runs then end with its connection, as a closed tab's
    seen, chart_rows, said = (-1, -1), -1, None
    while True:
        time.sleep(FRAME_SECONDS)
        if state.comparison.training and not still_reading():   # behind: nothing more until it catches up
            continue
        state.comparison.watched()
        if state.comparison.dropped:   # its tab stopped reading for a while: the status says so
            yield comparison(page, state)
            return
        _, ids = state.comparison.frames()
        rows = compare_view.coverage_rows(state.comparison)
        word = state.comparison.state
        if ids != seen or word != said:   # a new frame, or a new place in the line
            yield comparison(page, state, chart=rows != chart_rows)
            seen, chart_rows, said = ids, rows, word
        if not state.comparison.training:
            yield comparison(page, state, "Train both starts a new comparison" if state.comparison.stopped else None)
            return


@guarded(show=comparison)
def compare_pause(page: Page, state: PageState):
    state.compare_clicks.halt()
    if state.comparison is not None:
        state.comparison.pause()
    return {page.state: state}


@guarded(show=comparison)
def compare_stop(page: Page, state: PageState):
    state.compare_clicks.halt()
    if state.comparison is None:
        return comparison(page, state, "nothing to stop")
    state.comparison.end()
    return comparison(page, state, "Train both starts a new comparison")


def show_estimators(page: Page, contrast) -> dict:
    shown = gr.update(visible=contrast == "estimator")
    return {page.compare.left_estimator: shown, page.compare.right_estimator: shown}


def preset_steps(preset) -> dict:
    return gr.update(value=compare_view.preset_steps(preset))


def wire(page: Page) -> None:
    ui = page.compare
    inputs = [page.state, ui.preset, ui.contrast, ui.left_estimator, ui.right_estimator, ui.seed, ui.steps]
    outputs = [ui.left_plot, ui.right_plot, ui.chart, ui.status, page.state]
    # held, not dropped, while the last stream still sends (Pause then Train both at once); the click's age beside
    train_inputs = [*inputs, ui.click_age, ui.halt_age]
    ui.train_button.click(bind(compare_train, page), train_inputs, outputs, api_name="compare_train",
                          show_progress="hidden", trigger_mode="always_last",
                          js=static.event_js("click_age.js", INPUTS=len(train_inputs), BUTTON="compare-train",
                                             HALTS=["compare-pause", "compare-stop"]), **MANY)
    ui.pause_button.click(bind(compare_pause, page), [page.state], outputs, api_name="compare_pause", **MANY)
    ui.stop_button.click(bind(compare_stop, page), [page.state], outputs, api_name="compare_stop",
                         show_progress="hidden", **MANY)
    ui.contrast.change(bind(show_estimators, page), [ui.contrast], [ui.left_estimator, ui.right_estimator],
                       api_name=False, **MANY)
    ui.preset.input(preset_steps, [ui.preset], [ui.steps], api_name=False, **MANY)
