"""The page's logic without a browser (explorer/page/): the page state, its points read once, the
replay cursor, what a lesson step or a link sets up, what the controls and the frame outputs show,
the exports' names and the Compare tab's status line."""
import json
import os

import numpy as np
import pytest

from explorer.config import options as opts
from explorer.errors import UserInputError
from explorer.page import (compare, compare_view, controls, downloads, frame_view, lesson, pairs, points, runs, setup,
                           shown_controls)
from explorer.page.controls import CONTROL_NAMES, controls_from_options
from explorer.page.state import PageState

SMALL = {"dataset": "ring", "hidden": 16, "latent_dim": 2, "batch_size": 32, "steps": 300, "seed": 0}


def controls_of(options) -> list:
    values = controls_from_options(options)
    return [values[name] for name in CONTROL_NAMES]


@pytest.fixture
def state():
    state = PageState(device="cpu")
    yield state
    state.close()


def stepped(state, *counts) -> PageState:
    runs.new_run(state, opts.resolve(None, SMALL))
    for count in counts:
        state.live.step(count)
    return state


# ---------------------------------------------------------------------------- points, read once
def points_file(tmp_path, n=200, seed=0) -> str:
    path = tmp_path / "points.csv"
    np.savetxt(path, np.random.default_rng(seed).normal(size=(n, 2)), delimiter=",", header="x,y", comments="")
    return str(path)


def test_uploaded_points_are_read_once_and_handed_to_the_run(state, tmp_path):
    path = points_file(tmp_path)
    assert points.upload(state, path) == "200 points loaded from points.csv; press Train"
    os.remove(path)   # never read again: the run trains on the points the page holds
    options = runs.experiment_of(state, controls_of({**opts.resolve(None, {"dataset": "points", "points": "x.csv"}),
                                                     "hidden": 16}))
    assert options["points"] == path   # what config.json records
    assert runs.for_training(state, options) == "new run"
    run = state.live.run
    assert run.options["dataset"] == "points" and len(run.dataset.points) == 180   # a tenth held out for validation
    assert np.allclose(run.dataset.points.mean(axis=0), 0, atol=0.2)   # standardised
    assert points.points_for(options.changed(points="elsewhere.csv"), state.points) is None


def test_a_bad_points_file_is_refused_on_upload_and_the_page_keeps_its_points(state, tmp_path):
    good = points_file(tmp_path)
    points.upload(state, good)
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nhello,3\n")
    with pytest.raises(UserInputError, match="not a number"):
        points.upload(state, str(bad))
    assert state.points.path == good


def test_the_points_dataset_needs_a_file_before_training(state):
    with pytest.raises(UserInputError, match="needs a file"):
        runs.experiment_of(state, controls_of(opts.resolve(None, {"dataset": "points", "points": "x.csv"})))


def test_a_drawing_becomes_the_pages_points_and_a_new_run(state):
    drawn = json.dumps(np.random.default_rng(1).uniform(-2, 2, (40, 2)).round(4).tolist())
    options, note = points.use_drawing(state, drawn, 5)
    assert note.startswith("40 drawn points") and options["seed"] == 5 and options["dataset"] == "points"
    assert state.points.path == options["points"] and os.path.isfile(options["points"])
    assert state.live.run.step == 0 and state.live.run.options == options


# ---------------------------------------------------------------------------- the run follows the controls
def test_train_continues_a_run_and_takes_live_settings_and_a_new_shape_is_a_new_run(state):
    options = opts.resolve(None, SMALL)
    assert runs.for_training(state, options) == "new run"
    run = state.live.run
    assert runs.for_training(state, options.changed(entropy_weight=0.5)) is None
    assert state.live.run is run and run.options["entropy_weight"] == 0.5 and run.state.config.entropy_weight == 0.5
    assert runs.for_training(state, options.changed(seed=1)) == "new run" and state.live.run is not run


def test_step_says_what_it_stepped(state):
    options = opts.resolve(None, SMALL)
    assert runs.step(state, options, 10, "energy") == "stepped 10 (energy only)"
    assert runs.step(state, options, 1, "both") == "stepped 1" and state.live.run.step == 11
    with pytest.raises(UserInputError, match="between 1 and 1,000"):
        runs.step(state, options, 5000, "both")


@pytest.mark.parametrize("update", ["both", "energy", "generator"])
def test_every_step_button_stops_at_the_planned_steps_and_says_so(state, update):
    options = opts.resolve(None, {**SMALL, "steps": 20})
    assert runs.step(state, options, 10, "both") == "stepped 10"
    run = state.live.run
    assert runs.step(state, options, 100, update) == (f"stepped 10{runs.STEPPED[update]}; "
                                                      "the run has reached its 20 steps")
    for _ in range(2):   # at the plan: nothing stepped, no new run, and the words say why
        with pytest.raises(UserInputError, match="the run has reached its 20 steps: raise steps or press Reset"):
            runs.step(state, options, 10, update)
        assert state.live.run is run and run.step == 20
    assert runs.step(state, options.changed(steps=25), 10, update).startswith("stepped 5")   # steps raised
    assert run.step == 25 and state.live.run is run


@pytest.mark.parametrize("update", ["both", "energy", "generator"])
def test_every_step_button_stops_at_a_saved_pairs_planned_steps(state, update):
    run = pairs.show_pretrained(state, "ring")
    planned = run.options["steps"]
    assert run.done and state.live.ended   # a finished pair: Train starts a new run
    with pytest.raises(UserInputError, match=f"the run has reached its {planned:,} steps: raise steps or press Reset"):
        runs.step(state, run.options, 10, update)
    assert state.live.run is run and run.step == planned
    # the steps control raised: the pair itself steps on, its other settings as saved
    assert runs.step(state, run.options.changed(steps=planned + 10, lr_energy=0.5), 10, update) == (
        f"stepped 10{runs.STEPPED[update]}; the run has reached its {planned + 10:,} steps")
    assert state.live.run is run and run.step == planned + 10 and run.options["lr_energy"] != 0.5


# ---------------------------------------------------------------------------- replay
def test_the_replay_cursor_holds_an_earlier_frame_until_a_still_frame_comes(state):
    stepped(state, 10, 10, 10)
    cursor, live = state.replay_cursor, state.live
    assert cursor.slider(live) == {"minimum": 0, "maximum": 30, "interactive": True, "value": 30}
    assert cursor.move(live, 12) and cursor.replaying(live)
    assert cursor.shown_frame(live).step == 10 and cursor.released_at(live, 12) == 10
    assert "value" not in cursor.slider(live)   # the slider stays where the user put it
    shown = frame_view.newest(state)
    assert "replaying step 10" in shown.status and "step 10" in json.loads(shown.landscape)["layout"]["title"]["text"]
    live.step(10)   # a still frame after the cursor moved: back to live
    assert not cursor.replaying(live) and cursor.shown_frame(live).step == 40
    assert not cursor.move(live, 99) and cursor.step is None   # at or past the newest: live
    with pytest.raises(UserInputError, match="must be a number"):
        cursor.move(live, float("nan"))


def test_nothing_to_replay_before_a_run(state):
    assert state.replay_cursor.slider(state.live) == {"minimum": 0, "maximum": 1, "value": 0, "interactive": False}
    with pytest.raises(UserInputError, match="nothing to replay yet"):
        state.replay_cursor.move(state.live, 3)
    assert state.replay_cursor.go_live(state.live) is None


# ---------------------------------------------------------------------------- what the page shows
def test_the_frame_outputs_of_a_still_frame_bring_every_figure(state):
    assert frame_view.newest(state).landscape is None   # no run yet: the status line alone
    stepped(state, 10)
    shown = frame_view.newest(state, note="hello")
    assert "step 10 / 300" in shown.status and "hello" in shown.status
    assert all(json.loads(figure)["data"] for figure in (shown.landscape, shown.curves, shown.histogram))
    only = frame_view.status_only(state, "stopped at step 10", word="stopped", step=10)
    assert only.landscape is only.curves is only.histogram is None and "stopped" in only.status


def state_word(status: str) -> str:
    """The word after the step counter: "**step 10 / 300** · paused · ..." -> "paused"."""
    return status.split(" · ")[1]


def trained_until_a_frame_while_training(state, options):
    runs.for_training(state, options)
    state.live.start()
    seen = -1
    while True:   # frames come until one was made while training (no timing: the thread trains on)
        frame, seen = state.live.wait_frame(seen, timeout=5.0)
        if frame is not None and frame.info["training"]:
            return frame


def until_its_last_frame(state):
    seen = -1
    while state.live.training:
        _, seen = state.live.wait_frame(seen, timeout=1.0)


def test_the_status_word_says_training_paused_stopped_or_finished_and_a_redraw_keeps_it(state):
    long = opts.resolve(None, {**SMALL, "steps": 1_000_000})
    runs.new_run(state, long)
    assert state_word(frame_view.newest(state).status) == "ready"   # a new run, not stepped yet
    assert state_word(controls.status_markdown(trained_until_a_frame_while_training(state, long))) == "training"
    state.live.stop(wait=True)   # Pause: the run is not done, Train continues it
    assert state_word(frame_view.newest(state).status) == "paused"
    # later redraws (a view, a tab's draw) read the same frame's word: it stays
    assert state.set_view("density", True, True, False, False)
    assert state_word(frame_view.newest(state).status) == "paused"
    assert state_word(controls.status_markdown(state.live.latest()[0], "gallery in 0.10 s")) == "paused"
    state.live.step(10)   # a Step button: between steps, as after Pause
    assert state_word(frame_view.newest(state, "stepped 10").status) == "paused"
    trained_until_a_frame_while_training(state, long)
    state.live.end()   # Stop: the run is over, Train starts a new one
    until_its_last_frame(state)   # sent by the training thread once it has halted
    assert state_word(frame_view.newest(state).status) == "stopped"
    assert state.set_view("energy", True, True, False, False)
    assert state_word(frame_view.status_only(state, "gallery in 0.10 s").status) == "stopped"
    short = opts.resolve(None, {**SMALL, "steps": 30})
    assert runs.for_training(state, short) == "new run"
    state.live.start()
    until_its_last_frame(state)   # to its planned steps
    assert state.live.run.done and state_word(frame_view.newest(state).status) == "finished"
    assert state_word(controls.status_markdown(state.live.latest()[0], "densities in 0.2 s")) == "finished"


def test_the_controls_show_an_experiment_and_a_datasets_own_parameters():
    grid = shown_controls.showing(opts.resolve(None, {"dataset": "grid", "seed": 3}))
    assert grid["seed"] == {"value": 3} and grid["modes"] == {"value": 25, "visible": True}
    assert grid["radius"]["visible"] is False and grid["points_file"] == {"visible": False}
    changed = shown_controls.dataset_changed("points")
    assert "dataset" not in changed and "seed" not in changed and changed["points_file"] == {"visible": True}
    assert all(changed[name] == {"visible": False} for name in ("modes", "radius", "spacing", "std"))


def test_the_pages_view_changes_only_when_the_controls_differ(state):
    assert not state.set_view("energy", True, True, False, False)   # what it shows already
    assert state.set_view("density", True, False, True, False)
    assert state.view["view"] == "density" and state.live.layers == {"arrows": True, "latent": False}


# ---------------------------------------------------------------------------- lesson and link set-ups
def test_a_plain_address_sets_nothing_up_and_a_link_wins_over_its_lesson_step():
    assert setup.link_setup("") is None and setup.link_setup([]) is None
    step = setup.link_setup("lesson=4")
    assert (step.pair, step.view, step.lesson, step.in_lesson) == ("lesson-no-entropy", "density", 4, True)
    over = setup.link_setup("lesson=4&pair=grid-paper&landscape=energy&tab=gallery")
    assert (over.pair, over.view, over.tab, over.lesson) == ("grid-paper", "energy", "gallery", 4)
    run = setup.link_setup("dataset=grid&seed=3")
    assert run.pair is None and run.options["dataset"] == "grid" and run.options["seed"] == 3
    assert run.layers == setup.DEFAULT_LAYERS and run.tab == "landscape" and run.lesson is None
    hostile = setup.link_setup("seed=-1&pair=..%2Fetc")
    assert hostile.pair == setup.DEFAULT_PAIR and hostile.problem.startswith("the link had problems")


def test_lesson_steps_move_within_the_lesson():
    assert setup.lesson_move(None, -1) == (None, "this is the first step")
    assert setup.lesson_move(0, +1) == (1, None) and setup.lesson_move(3, -1) == (2, None)
    assert setup.lesson_move(len(lesson.STEPS), +1) == (None, "that was the last step")
    last = setup.lesson_setup(len(lesson.STEPS))
    assert last.pair is None and last.options["entropy_weight"] == 0.0 and last.note.startswith("lesson step 7 of 7")
    assert setup.lesson_text(0) == setup.LESSON_INTRO and setup.lesson_text(1) == lesson.step(1).text


def test_applying_a_setup_shows_a_pair_or_starts_a_run(state):
    shown = setup.apply(state, setup.lesson_setup(len(lesson.STEPS)))
    assert state.live.run.step == 0 and state.live.source == "live run" and shown == state.live.run.options
    assert state.view["view"] == "density" and state.shown_pair() is None
    shown = setup.apply(state, setup.link_setup("pair=grid-paper&dataset=ring&seed=2"))
    assert state.shown_pair() == "grid-paper" and shown["dataset"] == "ring"   # over a pair: what Train runs next


def test_a_links_problem_outlives_the_draw_of_the_tab_it_opened_until_the_user_acts(state):
    shown = setup.link_setup("seed=-1&tab=gallery")
    setup.apply(state, shown)
    state.opened_link(shown.problem, shown.tab)
    assert shown.problem.startswith("the link had problems")
    assert state.link_problem_kept("gallery") == shown.problem   # the gallery's draw that the link's opening fires
    assert state.link_problem_kept("gallery") is None            # the user opened it again: over
    state.opened_link(shown.problem, shown.tab)
    assert state.link_problem_kept("densities") is None          # another tab: the user's doing
    assert state.link_problem_kept("gallery") is None
    state.opened_link(shown.problem, shown.tab)
    assert "had problems" not in frame_view.newest(state, "stepped 10").status   # any other status line ends it
    assert state.link_problem_kept("gallery") is None
    state.opened_link(None, "gallery")   # a link without problems, a lesson step: nothing to keep
    assert state.link_problem_kept("gallery") is None


# ---------------------------------------------------------------------------- exports and the Compare tab
def test_exports_are_named_after_the_figure_step_and_dataset(state):
    with pytest.raises(UserInputError, match="no run yet"):
        downloads.history_csv(state)
    stepped(state, 10, 10)
    state.replay_cursor.move(state.live, 10)
    assert downloads.figure_step(state, "landscape") == 10 and downloads.figure_step(state, "curves") == 20
    path, note = downloads.history_csv(state)
    assert path.endswith("energylab-ring-history-step20.csv") and note.endswith("(20 steps x 5 metrics)")
    with pytest.raises(UserInputError, match="choose a figure to export"):
        downloads.figure_html(state, "teapot", [])
    figure = frame_view.newest(state).landscape
    path, note = downloads.figure_html(state, "landscape", [figure, None, None, None, None, None])
    assert path.endswith("energylab-ring-landscape-step10.html") and "opens offline" in note


def test_the_compare_tabs_status_says_its_state_and_both_steps(state):
    assert compare_view.shown(state).status == "Press Train both."
    assert compare_view.shown(state, problem="<b>").status == "⚠️ &lt;b&gt;"
    assert compare_view.preset_steps("lesson") == 3000
    left, right, names = compare.side_options("lesson", "entropy", 0, steps=20)
    state.comparison = compare.Comparison(left, right, names, device="cpu")
    shown = compare_view.shown(state, note="a note")
    assert shown.status.startswith("**paused** · entropy weight 0 step 0 · entropy weight 1 (knn) step 0")
    assert shown.status.endswith("a note") and json.loads(shown.chart)["data"] is not None
    assert shown.left is not None and shown.right is not None
