"""A control's problem beside it: each group of controls (data, method, advanced) has a message line
at its head, set as soon as one of its fields holds a bad value and gone as soon as none does.

On a control's change its group's fields are checked, each alone (explorer/page/controls.py,
group_problems): a bad std says nothing of the learning rates. A status warning that points to the
group ("(see data)", added by explorer/ui/guard.py) goes with it. Train, Reset and Step check every
group and open a folded one that holds a problem.
"""
from __future__ import annotations

import html

import gradio as gr

from explorer.page import controls, shown_controls
from explorer.page.state import PageState
from explorer.ui.frames import only_status
from explorer.ui.guard import guarded
from explorer.ui.page import MANY, Page, bind


def message(problems: list[str]) -> dict:
    """The group's message line: its problems, one a line, or hidden when there are none."""
    return gr.update(value="  \n".join(f"⚠️ {html.escape(p)}" for p in problems), visible=bool(problems))


def control_values(values) -> dict:
    return dict(zip(controls.CONTROL_NAMES, values, strict=False))


def points_path(state) -> str | None:
    return state.points.path if isinstance(state, PageState) and state.points is not None else None


def group_check(group: str, dataset_changed: bool = False):
    """The handler of a change in `group`: its message line, and the status line without the
    warning that points here once the group is clean. A new dataset brings its own defaults a
    moment later (train.change_dataset; a set-up its own values, each with its own change): the
    check reads them at once, so that no problem of the old values flashes up."""
    @guarded()
    def check(page: Page, state: PageState, status, *values):
        values = control_values(values)
        if dataset_changed:
            shown = shown_controls.dataset_changed(values.get("dataset"))
            values |= {name: shown[name]["value"] for name in controls.CONTROL_GROUPS[group]
                       if "value" in shown.get(name, {})}
        problems = controls.group_problems(group, values, points_path(state))
        updates = {page.train.messages[group]: message(problems)}
        if not problems and controls.pointer(group) in (status or ""):
            updates |= only_status(page, state)
        return updates
    check.__name__ = f"check_{group}"
    return check


@guarded()
def check_all(page: Page, state: PageState, *values):
    """Train, Reset or Step pressed: every group checked (the points file asked for), and a folded
    group with a problem opened, so that the message the status line points to is in view."""
    updates = {}
    for group in controls.CONTROL_GROUPS:
        problems = controls.group_problems(group, control_values(values), points_path(state), need_points=True)
        updates[page.train.messages[group]] = message(problems)
        if problems:
            updates[page.train.groups[group]] = gr.update(open=True)
    return updates


def wire(page: Page) -> None:
    ui, state = page.train, page.state
    inputs = [state, page.status, *ui.control_inputs]
    for group, names in controls.CONTROL_GROUPS.items():
        # one group's checks run in the order they came: the last change's answer is the one shown
        quiet = dict(api_name=False, show_progress="hidden", concurrency_limit=1, concurrency_id=f"check-{group}")
        outputs = [ui.messages[group], page.status, state]
        triggers = [ui.controls[name].change for name in names if name != "dataset"]
        if group == "data":
            triggers.append(ui.points_file.change)   # a points file uploaded: the dataset has its file
            ui.controls["dataset"].change(bind(group_check(group, dataset_changed=True), page), inputs, outputs,
                                          **quiet)
        gr.on(triggers, bind(group_check(group), page), inputs, outputs, **quiet)
    gr.on([ui.train_button.click, ui.reset_button.click, *(b.click for b in ui.step_buttons.values())],
          bind(check_all, page), [state, *ui.control_inputs],
          [*ui.messages.values(), *ui.groups.values(), page.status, state],   # the last two: the guard's message
          api_name=False, show_progress="hidden", **MANY)
