"""The Studies tab: the shipped studies' results (assets/studies/: the table with the published rows,
each seed's dot of a chosen metric), and a small study of the page's settings that a visitor starts,
its dots appearing as its runs finish (explorer/page/studies.py, explorer/page/small_study.py).

The default shipped study is drawn into the page itself: opening the tab needs no round trip.
"""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from explorer.page import runs, small_study, studies
from explorer.page.state import PageState
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind
from explorer.ui.plot_view import plotly_view

TAB_ID = "studies-tab"
TICK_SECONDS = 1.0   # the small study's status line (its time left) is redrawn this often between runs
STUDIES_NOTE = """Every number EnergyLab states is a mean over seeds with its spread: a study is configurations
x methods x seeds, each run an ordinary training plus evaluation (`python -m explorer.study`; docs/studies.md).
Means ± standard error in the table; the figure's error bars are 95 % intervals (Student's t over seeds)."""


@dataclass
class StudiesUI:
    suite: gr.Dropdown
    metric: gr.Dropdown
    about: gr.Markdown
    dots: gr.HTML
    table: gr.Markdown
    seeds: gr.Number
    start_button: gr.Button
    stop_button: gr.Button
    own_status: gr.Markdown
    own_metric: gr.Dropdown
    own_dots: gr.HTML
    own_table: gr.Markdown


def create_ui() -> StudiesUI:
    default = studies.default_suite()
    first = studies.shipped_view(default) if default else studies.StudyShown("No shipped studies.")
    with gr.Tab("Studies", id=TAB_ID, elem_id=TAB_ID):
        gr.Markdown(STUDIES_NOTE)
        with gr.Row():
            suite = gr.Dropdown(studies.suite_choices(), value=default, label="shipped study", elem_id="study-suite")
            metric = gr.Dropdown(list(first.metrics), value=first.metric, label="metric", elem_id="study-metric")
        about = gr.Markdown(first.text, elem_id="study-about")
        dots = plotly_view("study-dots", 400, first.figure)
        table = gr.Markdown(first.table or "", elem_id="study-table")
        gr.Markdown("### A small study of these settings")
        with gr.Row(equal_height=True):
            seeds = gr.Number(small_study.DEFAULT_SEEDS, precision=0, elem_id="study-seeds",
                              label=f"seeds ({small_study.MIN_SEEDS} to {small_study.MAX_SEEDS}), "
                                    "from the seed under advanced")
            start_button = gr.Button("Run a small study", variant="primary", elem_id="study-start")
            stop_button = gr.Button("Stop", variant="stop", elem_id="study-stop")
        own_status = gr.Markdown(studies.SMALL_STUDY_INTRO, elem_id="study-status")
        own_metric = gr.Dropdown([], value=None, label="metric", elem_id="study-own-metric")
        own_dots = plotly_view("study-own-dots", 360)
        own_table = gr.Markdown(elem_id="study-own-table")
    return StudiesUI(suite, metric, about, dots, table, seeds, start_button, stop_button, own_status, own_metric,
                     own_dots, own_table)


def shown_shipped(page: Page, state: PageState, shown: studies.StudyShown) -> dict:
    ui = page.studies
    updates = {ui.about: shown.text, ui.table: shown.table or "", page.state: state,
               ui.metric: gr.update(choices=list(shown.metrics), value=shown.metric)}
    if shown.figure is not None:
        updates[ui.dots] = shown.figure
    return updates


def about_problem(page: Page, state: PageState, problem: str | None = None) -> dict:
    return {page.studies.about: f"⚠️ {problem}", page.state: state}


def shown_own(page: Page, state: PageState, note: str | None = None, problem: str | None = None,
              figure: bool = True) -> dict:
    """The page's small study: its status line, and (with `figure`) its dots, table and metrics."""
    ui, shown = page.studies, studies.small_study_view(state.small_study, note, problem, figure)
    updates = {ui.own_status: shown.text, page.state: state}
    if shown.figure is not None:
        updates |= {ui.own_dots: shown.figure, ui.own_table: shown.table or "",
                    ui.own_metric: gr.update(choices=list(shown.metrics), value=shown.metric)}
    return updates


# ---------------------------------------------------------------------------- handlers
@guarded(show=about_problem)
def show_study(page: Page, state: PageState, name, metric):
    """A shipped study: what made it, the dots of `metric` and the table with the published rows."""
    return shown_shipped(page, state, studies.shipped_view(name, metric))


@guarded(show=shown_own)
def start_study(page: Page, state: PageState, seeds, *values):
    """A small study of the controls' settings: stream its status, dots and table as each run finishes."""
    study = small_study.start(state, runs.experiment_of(state, values), seeds)
    seen, status = -1, None
    while True:
        version = study.wait_change(seen, timeout=TICK_SECONDS)
        changed, seen = version != seen, version
        updates = shown_own(page, state, figure=changed)   # between runs, the status line alone (time left)
        if changed or updates[page.studies.own_status] != status:
            status = updates[page.studies.own_status]
            yield updates
        if study.state != small_study.RUNNING and seen == study.version:   # its last change is shown
            return


@guarded(show=shown_own)
def stop_study(page: Page, state: PageState):
    study = state.small_study
    if study is None or not study.running:
        return shown_own(page, state, "nothing to stop")
    study.close()
    return shown_own(page, state)


@guarded(show=shown_own)
def choose_own_metric(page: Page, state: PageState, metric):
    if state.small_study is None:
        return {page.state: state}
    state.small_study.metric = metric
    return shown_own(page, state)


def wire(page: Page) -> None:
    ui, state = page.studies, page.state
    shipped = [ui.about, ui.dots, ui.table, ui.metric, state]
    ui.suite.input(bind(show_study, page), [state, ui.suite, ui.metric], shipped, api_name="study", **MANY)
    ui.metric.input(bind(show_study, page), [state, ui.suite, ui.metric], shipped, api_name=False, **MANY)
    own = [ui.own_status, ui.own_dots, ui.own_table, ui.own_metric, state]
    ui.start_button.click(bind(start_study, page), [state, ui.seeds, *page.train.control_inputs], own,
                          api_name="study_start", show_progress="hidden", **MANY)
    ui.stop_button.click(bind(stop_study, page), [state], own, api_name="study_stop", show_progress="hidden", **MANY)
    ui.own_metric.input(bind(choose_own_metric, page), [state, ui.own_metric], own, api_name=False, **MANY)
