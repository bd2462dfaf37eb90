"""The page's run follows its controls: Train, Step and Reset from the controls' values.

The controls' values become one checked Experiment (explorer/config/options.py); a run is built
from it, or, when only live settings changed, the run takes them between steps (LiveSession.apply).
A run of the page's own points is handed the points it has read (explorer/page/points.py).
"""
from __future__ import annotations

from explorer.config.options import Experiment
from explorer.errors import UserInputError
from explorer.page import controls
from explorer.page.points import points_for
from explorer.page.state import PageState

STEP_CHOICES = (1, 10, 100, 1000)   # the "steps per click" of the Step buttons
STEPPED = {"both": "", "energy": " (energy only)", "generator": " (generator only)"}


def experiment_of(state: PageState, values) -> Experiment:
    """The controls' values (in controls.CONTROL_NAMES order), checked; the points dataset is the
    page's points file (UserInputError naming the control that is wrong)."""
    points_path = state.points.path if state.points is not None else None
    return controls.options_from_controls(dict(zip(controls.CONTROL_NAMES, values, strict=False)), points_path)


def new_run(state: PageState, options: Experiment, fine: bool = True) -> None:
    """`fine`: its first frame at full resolution (a run shown still: Reset, a Step); a run about to
    train shows a live frame's resolution until its first live frame replaces it."""
    state.end_aside()
    state.live.new_run(options, dataset=points_for(options, state.points), fine=fine)


def for_training(state: PageState, options: Experiment) -> str | None:
    """Before Train: a new run when a setting that shapes it changed (or it ended), else the
    current run takes the live settings. Returns "new run" for a new one."""
    state.end_aside()
    if state.live.needs_new_run(options):
        new_run(state, options, fine=False)   # a class pressing Train at once: a third of the cost each
        return "new run"
    state.live.apply(options)
    return None


def step(state: PageState, options: Experiment, count, update: str) -> str:
    """The Step buttons: `count` iterations of both networks or one (`update`), on a new run when
    there is none or the controls shape another; an ended run (Stop, a saved pair) is stepped as it
    is but for its planned steps. All three stop at the planned steps and say so (UserInputError
    when there is no step left). Returns the note."""
    count = controls.whole_number(count, "steps per click", 1, max(STEP_CHOICES))
    state.end_aside()
    live = state.live
    if live.run is None or (not live.ended and live.run.options.shapes_differ(options)):
        new_run(state, options)
    elif not live.ended:
        live.apply(options)
    else:   # the controls need not show its hidden settings: only the steps, to raise them
        live.apply(live.run.options.changed(steps=options["steps"]))
    run = live.run
    if run.done:
        raise UserInputError(f"{at_its_planned_steps(run)}: raise steps or press Reset")
    done = live.step(count, update)
    return f"stepped {done}{STEPPED[update]}" + (f"; {at_its_planned_steps(run)}" if run.done else "")


def at_its_planned_steps(run) -> str:
    return f"the run has reached its {run.options['steps']:,} steps"
