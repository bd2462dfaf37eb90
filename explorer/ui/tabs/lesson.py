"""The lesson, the shareable link and classroom mode, over the tabs.

The story and its set-ups are data in explorer/page/lesson.py, the link's format explorer/page/links.py,
which of them wins explorer/page/setup.py. A lesson step and an opened link (the page's own address,
at its load event) both end in `show_setup`, whose updates are SETUP_OUTPUTS. After anything that
changes the experiment, the link's query string goes into the address bar and the link box.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from explorer.page import controls, lesson, runs, setup, shown_controls
from explorer.page import links as share
from explorer.page.state import PageState
from explorer.pairs import catalogue
from explorer.training.capacity import REQUESTS_FIRST
from explorer.ui import static
from explorer.ui.frames import draw, only_status
from explorer.ui.guard import EXPECTED, guarded
from explorer.ui.page import MANY, Page, bind
from explorer.ui.plot_view import ADDRESS_EVENT
from explorer.ui.sessions import close_page, ensure, remember
from explorer.ui.tabs.train import choose_pretrained, control_updates

# what `show_setup` updates, in the order the API reports them (/open_link, /lesson_next, /lesson_prev)
SETUP_OUTPUTS = ("landscape", "curves", "histogram", "status", "session", *controls.CONTROL_NAMES, "points_file",
                 "pretrained", "view", "show_data", "show_samples", "show_arrows", "show_latent", "tabs",
                 "tab_state", "lesson_step", "lesson_panel", "lesson_indicator", "lesson_text", "classroom")
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


@dataclass
class LessonUI:
    panel: gr.Accordion
    indicator: gr.Markdown
    text: gr.Markdown
    prev_button: gr.Button
    next_button: gr.Button
    classroom: gr.Checkbox
    copy_link: gr.Button
    link_box: gr.Textbox
    link_query: gr.Textbox   # the link's query string, made by current_link
    link_in: gr.Textbox      # /open_link's input: a query string
    step: gr.State           # the lesson step shown (0: before the lesson)
    tab_state: gr.Textbox    # the open tab; set in the browser


def create_ui() -> LessonUI:
    with gr.Accordion(f"Lesson: the method in {len(lesson.STEPS)} steps", open=True, elem_id="lesson") as panel:
        indicator = gr.Markdown(lesson.indicator(0), elem_id="lesson-indicator")
        text = gr.Markdown(setup.LESSON_INTRO, latex_delimiters=LATEX, elem_id="lesson-text")
        with gr.Row():
            prev_button = gr.Button("◀ Prev", elem_id="lesson-prev", size="sm")
            next_button = gr.Button("Next ▶", elem_id="lesson-next", size="sm", variant="primary")
    with gr.Row(equal_height=True):
        classroom = gr.Checkbox(False, label="classroom: hide the advanced controls", elem_id="classroom", scale=1)
        copy_link = gr.Button("Copy link", elem_id="copy-link", size="sm", scale=0, min_width=100)
        link_box = gr.Textbox(label="link to this experiment (the address bar keeps it current)", interactive=False,
                              elem_id="link", buttons=["copy"], scale=3, lines=1, max_lines=2)
    link_query = gr.Textbox(visible=False)
    link_in = gr.Textbox(visible=False)
    step = gr.State(0)
    tab_state = gr.Textbox("landscape", visible=False)
    return LessonUI(panel, indicator, text, prev_button, next_button, classroom, copy_link, link_box, link_query,
                    link_in, step, tab_state)


def setup_outputs(page: Page) -> list:
    """The components of SETUP_OUTPUTS, in that order."""
    train, landscape, ui = page.train, page.landscape, page.lesson
    named = {"landscape": landscape.landscape, "curves": landscape.curves, "histogram": landscape.histogram,
             "status": page.status, "session": page.state, **train.controls, "points_file": train.points_file,
             "pretrained": train.pretrained, "view": landscape.view,
             **{f"show_{layer}": box for layer, box in landscape.layer_boxes.items()}, "tabs": page.tabs,
             "tab_state": ui.tab_state, "lesson_step": ui.step, "lesson_panel": ui.panel,
             "lesson_indicator": ui.indicator, "lesson_text": ui.text, "classroom": ui.classroom}
    return [named[name] for name in SETUP_OUTPUTS]


def show_setup(page: Page, state: PageState, shown: setup.PageSetup) -> dict:
    """Set the page up (explorer/page/setup.py, apply) and show it: the frame, the controls (unless
    the set-up leaves them), the pair, the view and layers, the tab, the lesson step, classroom mode."""
    options = setup.apply(state, shown)
    updates = draw(page, state, shown.note, shown.problem)
    state.opened_link(shown.problem, shown.tab)   # its tab's first draw keeps saying the problem
    if options is not None:
        updates |= control_updates(page, shown_controls.showing(options))
    ui = page.lesson
    updates |= {page.train.pretrained: gr.update(value=shown.pair or None),
                page.landscape.view: gr.update(value=shown.view),
                **{box: gr.update(value=layer in shown.layers) for layer, box in page.landscape.layer_boxes.items()},
                page.tabs: gr.Tabs(selected=f"{shown.tab}-tab"), ui.tab_state: shown.tab}
    if shown.lesson is not None:
        updates |= {ui.step: shown.lesson, ui.indicator: lesson.indicator(shown.lesson),
                    ui.text: setup.lesson_text(shown.lesson)}
    if shown.in_lesson:
        updates[ui.panel] = gr.update(open=True)
    if shown.classroom is not None:
        updates[ui.classroom] = gr.update(value=shown.classroom)
    return updates


def lesson_move(change: int):
    """The handler of Next (+1) or Prev (-1)."""
    @guarded()
    def move(page: Page, state: PageState, current):
        number, note = setup.lesson_move(current, change)
        if number is None:
            return only_status(page, state, note)
        return show_setup(page, state, setup.lesson_setup(number))
    move.__name__ = "lesson_next" if change > 0 else "lesson_prev"
    return move


@guarded()
def open_link(page: Page, state: PageState, query, tabs=lesson.TABS):
    """Set the page up as a link says (its query string, or a dict of its parameters).
    Bad or hostile values fall back to the defaults, each named in the status line."""
    shown = setup.link_setup(query, tabs)
    if shown is None:   # a plain address: the default pair, as before links existed
        if not catalogue.pretrained_pairs():
            return draw(page, state)
        return choose_pretrained(page, state, setup.DEFAULT_PAIR)
    return show_setup(page, state, shown)


def link_loader(page: Page, tabs):
    """The load event's handler: the page's own address holds the link (gr.Request brings its query)."""
    def open_address(state, request: gr.Request):
        params = list(request.query_params.multi_items()) if request is not None else []
        state = ensure(state)
        remember(state, request)   # so that closing the tab can stop its runs
        with REQUESTS_FIRST.serving():   # a new visitor's page before other runs' next chunks
            return open_link(page, state, params, tabs)
    return open_address


def link_query_of(state, pair, tab, number, classroom, view, show_data, show_samples, show_arrows, show_latent,
                  *values):
    """The query string of the page's state (unchanged while a control holds a bad value)."""
    if not isinstance(state, PageState):
        return gr.skip()
    try:
        options = runs.experiment_of(state, values)
    except EXPECTED:
        return gr.skip()
    shown = {"data": show_data, "samples": show_samples, "arrows": show_arrows, "latent": show_latent}
    return share.encode(share.Shared(
        options=options, view=view, layers=tuple(name for name, on in shown.items() if on), pair=pair, tab=tab,
        lesson=number if isinstance(number, int) and number > 0 else None, classroom=True if classroom else None))


# Three ways to know which pair the link names, none of them racing the handler that changes it:
def current_link(state, *inputs):
    """After a handler has finished, or for a control: the pair the page shows, if any."""
    return link_query_of(state, state.shown_pair() if isinstance(state, PageState) else None, *inputs)


def live_run_link(state, *inputs):
    """Train, Reset, an uploaded pair (beside their handlers): what is shown next is no catalogue pair."""
    return link_query_of(state, None, *inputs)


def chosen_pair_link(state, name, *inputs):
    """A pretrained pair chosen (beside its handler): that pair."""
    return link_query_of(state, name or None, *inputs)


def set_classroom(page: Page, on: bool) -> dict:
    """Classroom: hide the advanced group (negatives, learning rates, networks, seed); leave the pairs
    and their files, data, method, Train and the lesson."""
    return {page.train.groups["advanced"]: gr.update(visible=not on)}


def wire(page: Page) -> None:
    ui, state, train, landscape = page.lesson, page.state, page.train, page.landscape
    tab_items = [tab for tab in page.tabs.children if isinstance(tab, gr.Tab) and tab.id]
    tab_names = tuple(str(tab.id).removesuffix("-tab") for tab in tab_items)
    outputs = setup_outputs(page)
    quiet = dict(api_name=False, show_progress="hidden", **MANY)
    link_inputs = [ui.tab_state, ui.step, ui.classroom, *landscape.view_controls, *train.control_inputs]
    link_js = static.event_js("link.js", FOREIGN_KEYS=list(share.FOREIGN_KEYS), ADDRESS_EVENT=ADDRESS_EVENT)

    def to_address(event):
        """After `event` made the link's query string: into the address bar and the link box."""
        event.then(None, [ui.link_query], [ui.link_box], js=link_js, api_name=False, show_progress="hidden")

    def then_link(event):
        to_address(event.then(current_link, [state, *link_inputs], [ui.link_query], **quiet))

    opened = page.blocks.load(link_loader(page, tab_names), [state], outputs, api_name=False, **MANY)
    then_link(opened)
    # the first view is in the browser: training, paused while the page opened, goes on
    opened.then(REQUESTS_FIRST.page_opened, None, None, **quiet)
    page.blocks.unload(close_page)
    then_link(ui.link_in.submit(lambda s, query: open_link(page, s, query, tab_names), [state, ui.link_in], outputs,
                                api_name="open_link", **MANY))
    then_link(ui.next_button.click(bind(lesson_move(+1), page), [state, ui.step], outputs, api_name="lesson_next",
                                   **MANY))
    then_link(ui.prev_button.click(bind(lesson_move(-1), page), [state, ui.step], outputs, api_name="lesson_prev",
                                   **MANY))
    ui.classroom.change(bind(set_classroom, page), [ui.classroom],
                        [train.groups["advanced"]], api_name=False, **MANY)
    # the open tab is noted in the browser: no round trip, so no race with the tab's own handler
    for tab, name in zip(tab_items, tab_names, strict=True):
        then_link(tab.select(None, None, [ui.tab_state], js=f"() => {json.dumps(name)}", api_name=False))
    # not on the status line, which changes with every frame while training: on what changes the experiment
    to_address(gr.on([c.change for c in (*link_inputs[2:], train.pretrained)], current_link, [state, *link_inputs],
                     [ui.link_query], trigger_mode="always_last", **quiet))
    to_address(gr.on([train.train_button.click, train.reset_button.click, train.pair_upload.upload], live_run_link,
                     [state, *link_inputs], [ui.link_query], **quiet))
    to_address(train.pretrained.input(chosen_pair_link, [state, train.pretrained, *link_inputs], [ui.link_query],
                                      **quiet))
    ui.copy_link.click(None, None, [ui.link_box], js=static.event_js("copy_link.js"), api_name=False,
                       show_progress="hidden")
