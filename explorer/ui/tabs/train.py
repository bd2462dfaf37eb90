"""The controls' column: a pretrained pair with a pair's files (upload, download) beside it,
Train / Pause / Stop / Step / Reset, and the experiment's controls in three groups
(controls.CONTROL_GROUPS: data and method open, advanced folded).

Train streams frames while a background thread trains (explorer/training/live.py); the controls
become one checked Experiment (explorer/page/runs.py). While the run waits for a place, the stream
sends its place in the line instead; a page that stops reading gets nothing more, and its run ends.
"""
from __future__ import annotations

import html
import os
import time
from dataclasses import dataclass

import gradio as gr

from explorer.config.options import OPTION_BY_NAME, resolve
from explorer.data.datasets import DATASET_NAMES
from explorer.page import controls, pairs, points, runs, shown_controls
from explorer.page.frame_view import SIDE_PLOTS_EVERY, waiting_word
from explorer.page.state import PageState
from explorer.training.capacity import REQUESTS_FIRST
from explorer.training.live import FRAME_SECONDS
from explorer.training.memory import release_free_memory
from explorer.training.turns import LINE_SECONDS
from explorer.ui import static
from explorer.ui.frames import draw, only_status
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind
from explorer.ui.sessions import remember_this_page, still_reading

# uploads: points files are at most 100 MiB (datasets.MAX_FILE_BYTES), a pair's weights 64 MiB;
# Gradio refuses a larger upload before it reaches a handler (explorer/ui/server.py)
MAX_UPLOAD_BYTES = 100 * 2**20
# weight 0 collapses the paper's method only: EnergyLab's keeps the ring's 8 modes (pair ring-no-entropy)
ENTROPY_WEIGHT_INFO = ("1 = the paper's KL; 0 = no entropy term: the paper's method then collapses onto a few "
                       "modes (Lesson steps 4-5, Compare), EnergyLab's keeps them")


@dataclass
class TrainUI:
    pretrained: gr.Dropdown
    train_button: gr.Button
    pause_button: gr.Button
    stop_button: gr.Button
    step_count: gr.Dropdown
    step_buttons: dict          # "both" / "energy" / "generator" -> its Step button
    reset_button: gr.Button
    controls: dict              # controls.CONTROL_NAMES -> component, in that order
    points_file: gr.File
    groups: dict                # controls.CONTROL_GROUPS' names -> its accordion
    messages: dict              # the same names -> the group's message line (explorer/ui/tabs/field_checks.py)
    download_button: gr.Button
    download_file: gr.File
    pair_upload: gr.File
    pair_message: gr.Markdown   # beside the upload: what was loaded, or why not
    click_age: gr.Number        # hidden: Train's request says how old its click is (explorer/page/train_clicks.py)
    halt_age: gr.Number         # ... and how old the page's last click on Pause or Stop

    @property
    def control_inputs(self) -> list:
        return list(self.controls.values())

    @property
    def control_outputs(self) -> list:
        return [*self.controls.values(), self.points_file]


def number(name: str, **kwargs) -> gr.Number:
    option = OPTION_BY_NAME[name]
    # no minimum/maximum here: explorer/config/options.py checks bounds and says what is allowed, in the page
    return gr.Number(label=name.replace("_", " "), info=option.help, elem_id=name.replace("_", "-"), **kwargs)


def create_ui(pretrained_pairs) -> TrainUI:
    initial = controls.controls_from_options(resolve(None, {"dataset": "ring"}))
    pretrained = gr.Dropdown([(p.label, p.name) for p in pretrained_pairs], value=None, label="pretrained pair",
                             info="shows a pair trained by the command line (assets/README.md)")
    # a pair's files beside the menu of pairs, where they are looked for
    with gr.Row(equal_height=True, elem_id="pair-files"):
        pair_upload = gr.File(label="upload a pair (.zip, or its config.json + model.safetensors)",
                              file_count="multiple", elem_id="pair-upload", height=130, scale=3, min_width=160)
        download_button = gr.Button("Download this pair (.zip)", elem_id="download", scale=2, min_width=110)
    pair_message = gr.Markdown("", visible=False, elem_id="pair-message")
    download_file = gr.File(label="pair zip", visible=False, interactive=False)
    with gr.Row():
        train_button = gr.Button("Train", variant="primary", elem_id="train")
        pause_button = gr.Button("Pause", elem_id="pause")
        stop_button = gr.Button("Stop", variant="stop", elem_id="stop")
    click_age = gr.Number(0, visible=False, label="ms since the click on Train", elem_id="train-click-age")
    halt_age = gr.Number(-1, visible=False, label="ms since the click on Pause or Stop (-1: none)",
                         elem_id="train-halt-age")
    with gr.Row():
        step_count = gr.Dropdown(list(runs.STEP_CHOICES), value=10, label="steps per click", min_width=90)
        step_buttons = {"both": gr.Button("Step", elem_id="step"),
                        "energy": gr.Button("Step energy", elem_id="step-energy"),
                        "generator": gr.Button("Step generator", elem_id="step-generator")}
    reset_button = gr.Button("Reset: a new run from these settings", elem_id="reset")
    made, groups, messages = {}, {}, {}

    def message_line(group: str) -> gr.Markdown:
        """At the head of its group: what is wrong with the group's fields (hidden while nothing is)."""
        return gr.Markdown("", visible=False, elem_id=f"{group}-message")

    # what a student changes is open (data, method); the rest folds away under "advanced"
    with gr.Accordion("data", open=True, elem_id="data-group") as groups["data"]:
        messages["data"] = message_line("data")
        made["dataset"] = gr.Dropdown(list(DATASET_NAMES), value="ring", label="dataset")
        made["modes"] = number("modes", value=initial["modes"], precision=0)
        made["radius"] = number("radius", value=initial["radius"])
        made["spacing"] = number("spacing", value=initial["spacing"], visible=False)
        made["std"] = number("std", value=initial["std"])
        points_file = gr.File(label="points (.csv or .npy, N x 2)", visible=False, elem_id="points-upload")
    with gr.Accordion("method (the entropy and steps change live)", open=True, elem_id="method-group") as groups[
            "method"]:
        messages["method"] = message_line("method")
        made["method"] = gr.Radio([("EnergyLab's: an energy that is a density", "energylab"),
                                   ("the paper's: plain negatives", "paper")], value=initial["method"],
                                  label="method", elem_id="method",
                                  info="EnergyLab's refines the generator's samples by 5 Langevin steps, weights "
                                       "the energy's negatives towards p_E and resamples the samples; the paper's "
                                       "uses G(z) as it is (the lesson's collapse is shown with it)")
        made["entropy_weight"] = gr.Slider(0, 5, value=1.0, step=0.05, label="entropy weight",
                                           info=ENTROPY_WEIGHT_INFO)
        made["entropy"] = gr.Dropdown(list(OPTION_BY_NAME["entropy"].choices), value=initial["entropy"],
                                      label="entropy estimator",
                                      info="batchnorm: the paper's surrogate; vera, mi: its descendants' "
                                           "(vera adds noise to the generator: a change to or from it needs Reset)")
        made["steps"] = number("steps", value=initial["steps"], precision=0)
    with gr.Accordion("advanced: negatives, learning rates (live), networks and seed (on Reset or a new Train)",
                      open=False, elem_id="advanced-group") as groups["advanced"]:
        messages["advanced"] = message_line("advanced")
        made["sampler"] = gr.Radio(list(OPTION_BY_NAME["sampler"].choices), value=initial["sampler"],
                                   label="negative samples from",
                                   info=OPTION_BY_NAME["sampler"].help)
        made["lr_energy"] = number("lr_energy", value=initial["lr_energy"])
        made["lr_generator"] = number("lr_generator", value=initial["lr_generator"])
        made["batch_size"] = number("batch_size", value=initial["batch_size"], precision=0)
        made["hidden"] = number("hidden", value=initial["hidden"], precision=0)
        made["energy_hidden"] = number("energy_hidden", value=0, precision=0)
        made["latent_dim"] = number("latent_dim", value=initial["latent_dim"], precision=0)
        made["seed"] = number("seed", value=initial["seed"], precision=0)
    return TrainUI(pretrained, train_button, pause_button, stop_button, step_count, step_buttons, reset_button,
                   {name: made[name] for name in controls.CONTROL_NAMES}, points_file, groups, messages,
                   download_button, download_file, pair_upload, pair_message, click_age, halt_age)


def control_updates(page: Page, shown: dict) -> dict:
    """explorer/page/shown_controls.py's properties, as updates of the controls (and the points upload)."""
    components = {**page.train.controls, "points_file": page.train.points_file}
    return {components[name]: gr.update(**properties) for name, properties in shown.items()}


def pair_menu(page: Page, state: PageState) -> dict:
    """The pretrained-pair menu names a catalogue pair only while the page shows it: it empties once
    the page shows another run (Train, Reset, a Step on other settings, an uploaded pair)."""
    return {} if state.shown_pair() else {page.train.pretrained: gr.update(value=None)}


# ---------------------------------------------------------------------------- handlers
@guarded()
def choose_pretrained(page: Page, state: PageState, name: str):
    if not name:
        return only_status(page, state)
    started = time.perf_counter()
    with REQUESTS_FIRST.serving():
        run = pairs.show_pretrained(state, name)
        shown = draw(page, state, f"loaded in {time.perf_counter() - started:.2f} s")
    if state.aside is not None:   # shown while the page's run waits: the controls stay the run's
        return shown | {page.train.pretrained: gr.update(value=name)}
    return (shown | control_updates(page, shown_controls.showing(run.options))
            | {page.train.pretrained: gr.update(value=name)})


@guarded(show=draw)
def train(page: Page, state: PageState, *values):
    """Start (or continue) training and stream frames until it stops, pauses or ends. The last value
    two are the click's age and the last Pause or Stop click's: a click the page held while the run
    trained, with no Pause or Stop after it (a double click on Train), does nothing
    (explorer/page/train_clicks.py)."""
    *values, click_age, halt_age = values
    yield from state.train_clicks.stream(click_age, halt_age, lambda: stream_training(page, state, values),
                                         lambda: only_status(page, state))


def stream_training(page: Page, state: PageState, values):
    """Train's stream: the page's run trains, its frames sent as they come, until it pauses or ends."""
    live = state.live
    note = runs.for_training(state, runs.experiment_of(state, values))
    if state.comparison is not None:   # the comparison pauses: both cores go to this run
        state.comparison.pause()
    live.start()
    remember_this_page(state)   # an API client's run then ends with its connection, as a closed tab's
    menu = [pair_menu(page, state)]   # goes with the first update sent

    def sent(updates: dict) -> dict:
        return updates | (menu.pop() if menu else {})

    seen, shown, said = -1, 0, None
    while True:
        # in line, a look a second (its place and wait change no faster; a frame or its turn wakes it
        # at once): twenty waiting pages then cost the interpreter lock a fourth of the wakes
        frame, frame_id = live.wait_frame(seen, timeout=LINE_SECONDS if said is not None else FRAME_SECONDS)
        if live.training and not still_reading():   # behind: send nothing more until it catches up
            time.sleep(FRAME_SECONDS)
            continue
        live.watched()
        if state.aside is live:   # the page shows a pair while the run waits (PageState.step_aside)
            if not live.training:   # it failed aside: nothing to bring back
                state.end_aside()
                return
            if live.waiting() is not None:
                word = waiting_word(state)
                if word != said:
                    said = word
                    yield sent(only_status(page, state, note))
                continue
            state.bring_back(live)   # its turn: the page's run again
            seen, note = -1, "your turn came: your run trains now"
        elif state.live is not live:   # the page moved on (its run ended aside, or another run)
            return
        word = waiting_word(state)
        if frame_id != seen:
            seen, shown = frame_id, shown + 1
            yield sent(draw(page, state, note, side_plots=shown % SIDE_PLOTS_EVERY == 1))
        elif word is not None and word != said:   # in line: its place and the wait, as they change
            yield sent(only_status(page, state, note))
        said = word
        if not live.training:
            if live.run is None:   # dropped: the status says why
                yield sent(draw(page, state))
                return
            if live.ending:   # Stop: say so with the last frame, which replaces Stop's own status
                note = f"stopped at step {live.run.step:,}: Train starts a new run"
            elif live.run.done:   # the state word says "finished"
                note = "Train starts a new run"
            yield sent(draw(page, state, note))
            # resumed once the last frame is sent: what the run's frames freed goes back to the system
            # now, not at some later run's trim, so a paused or ended page holds only what it uses
            release_free_memory(force=True)
            return


def pause(page: Page, state) -> None:
    if isinstance(state, PageState):
        state.train_clicks.halt()
        state.end_aside()   # a run waiting aside leaves the line
        state.live.stop(wait=False)


@guarded()
def stop(page: Page, state: PageState):
    """Ends the run; while training, the Train stream brings the last frame, this only the word."""
    state.train_clicks.halt()
    if state.aside is not None:
        state.end_aside()
        return draw(page, state, "your run left the line: Train starts a new run")
    was_training = state.live.training
    step = state.live.end()
    note = f"stopped at step {step:,}: Train starts a new run" if step is not None else "nothing to stop"
    if was_training:  # the counter shows the halted step before the last frame has arrived
        return only_status(page, state, note, word="stopped", step=step)
    return draw(page, state, note)


def step_handler(update: str):
    """The handler of a Step button: `update` is "both", "energy" or "generator"."""
    @guarded()
    def step(page: Page, state: PageState, count, *values):
        note = runs.step(state, runs.experiment_of(state, values), count, update)
        return draw(page, state, note) | pair_menu(page, state)
    step.__name__ = f"step_{update}"
    return step


@guarded()
def reset(page: Page, state: PageState, *values):
    runs.new_run(state, runs.experiment_of(state, values))
    return draw(page, state, "new run at step 0") | pair_menu(page, state)


@guarded()
def change_live_setting(page: Page, state: PageState, *values):
    """Entropy, weight, learning rates and steps apply between steps, even mid-run."""
    if state.live.run is None or state.live.ended:
        return {page.state: state}
    if not state.live.apply(runs.experiment_of(state, values)):   # unchanged: e.g. a lesson step set them
        return {page.state: state}
    return only_status(page, state, "settings applied")


def change_dataset(page: Page, dataset: str) -> dict:
    """Show the dataset's own parameters and its defaults (explorer/page/shown_controls.py)."""
    return control_updates(page, shown_controls.dataset_changed(dataset))


@guarded()
def upload_points(page: Page, state: PageState, file):
    if file is None:
        return only_status(page, state)
    note = points.upload(state, file)
    return only_status(page, state, note) | {page.train.controls["dataset"]: gr.update(value="points")}


def pair_files_problem(page: Page, state: PageState, problem: str) -> dict:
    """A refused upload or download: the message beside the pair's files (and in the status line);
    the upload box emptied, so that the refused file is not sent again with the next one."""
    return only_status(page, state, problem=problem) | {
        page.train.pair_message: gr.update(value=f"⚠️ {html.escape(problem)}", visible=True),
        page.train.pair_upload: None}


@guarded(show=pair_files_problem)
def upload_pair(page: Page, state: PageState, files):
    if not files:
        return only_status(page, state)
    run = pairs.load_upload(state, files)
    names = " + ".join(os.path.basename(path) for path in ([files] if isinstance(files, str) else files))
    return (draw(page, state, "pair loaded") | control_updates(page, shown_controls.showing(run.options))
            | {page.train.pair_upload: None,   # emptied: the next upload is that pair alone, named after it
               page.train.pair_message: gr.update(value=f"loaded {html.escape(names)}", visible=True)}
            | pair_menu(page, state))


@guarded(show=pair_files_problem)
def download_pair(page: Page, state: PageState):
    path = pairs.download_zip(state)
    return draw(page, state, f"{os.path.basename(path)} ready") | {
        page.train.download_file: gr.update(value=path, visible=True),
        page.train.pair_message: gr.update(value="", visible=False)}


def wire(page: Page) -> None:
    ui, frame = page.train, list(page.frame)
    state, control_inputs = page.state, ui.control_inputs
    ui.pretrained.input(bind(choose_pretrained, page), [state, ui.pretrained],
                        frame + ui.control_outputs + [ui.pretrained], api_name="choose_pretrained", **MANY)
    # the pair menu last among each event's outputs: the API's earlier outputs keep their places
    # held, not dropped, while the last stream still sends (Pause then Train at once); the click's age beside
    train_inputs = [state, *control_inputs, ui.click_age, ui.halt_age]
    ui.train_button.click(bind(train, page), train_inputs, frame + [ui.pretrained], api_name="train",
                          show_progress="hidden", trigger_mode="always_last",
                          js=static.event_js("click_age.js", INPUTS=len(train_inputs), BUTTON="train",
                                             HALTS=["pause", "stop"]), **MANY)
    ui.pause_button.click(bind(pause, page), [state], [], api_name="pause", **MANY)
    ui.stop_button.click(bind(stop, page), [state], frame, api_name="stop", show_progress="hidden", **MANY)
    for update, button in ui.step_buttons.items():
        button.click(bind(step_handler(update), page), [state, ui.step_count, *control_inputs], frame + [ui.pretrained],
                     api_name=f"step_{update}", **MANY)
    ui.reset_button.click(bind(reset, page), [state, *control_inputs], frame + [ui.pretrained], api_name="reset",
                          **MANY)
    # the user's edits only (.input): a set-up (lesson, link, pair) sets the run itself, and while the page
    # fills in a set-up's values (a folded group's controls a moment later) a .change would send half of them
    for name in ("entropy", "entropy_weight", "lr_energy", "lr_generator", "steps"):
        ui.controls[name].input(bind(change_live_setting, page), [state, *control_inputs], frame,
                                 api_name="set_live" if name == "entropy_weight" else False, show_progress="hidden",
                                 **MANY)
    ui.controls["dataset"].input(bind(change_dataset, page), [ui.controls["dataset"]], ui.control_outputs,
                                 api_name=False, **MANY)
    ui.points_file.upload(bind(upload_points, page), [state, ui.points_file], frame + [ui.controls["dataset"]],
                          api_name="upload_points", **MANY)
    ui.pair_upload.upload(bind(upload_pair, page), [state, ui.pair_upload],
                          frame + ui.control_outputs + [ui.pair_upload, ui.pair_message, ui.pretrained],
                          api_name="upload_pair", **MANY)
    ui.download_button.click(bind(download_pair, page), [state],
                             frame + [ui.download_file, ui.pair_upload, ui.pair_message],
                             api_name="download_pair", **MANY)
