"""Between the app's controls and a run: control values <-> checked options, and the status line.

Kept out of explorer/ui/ so the page holds layout only, and so these rules are tested without a browser.
"""
from __future__ import annotations

import html
import math

from explorer.config.options import (
    OPTIONS,
    resolve,
    whole_number,  # noqa: F401 - app.py's name for it, until the page moves
)
from explorer.data.mixtures import MIXTURE_PARAMETERS
from explorer.errors import UserInputError
from explorer.measures.probes import Frame

# the controls the page shows, in the order the handlers receive them (names of explorer/config/options.py)
CONTROL_NAMES = ("dataset", "modes", "radius", "spacing", "std", "sampler", "method", "entropy", "entropy_weight",
                 "lr_energy", "lr_generator", "batch_size", "hidden", "energy_hidden", "latent_dim", "steps", "seed")
# the page's groups of controls, in the order the page shows them: what a student changes first
CONTROL_GROUPS = {"data": ("dataset", "modes", "radius", "spacing", "std"),
                  "method": ("method", "entropy_weight", "entropy", "steps"),
                  "advanced": ("sampler", "lr_energy", "lr_generator", "batch_size", "hidden", "energy_hidden",
                               "latent_dim", "seed")}
# for finding flags in a message: --entropy must not match the start of --entropy-weight
OPTIONS_LONGEST_FLAG_FIRST = tuple(sorted(OPTIONS, key=lambda o: -len(o.flag)))
# per dataset, which of its parameters apply (the others are hidden)
DATASET_PARAMETERS = MIXTURE_PARAMETERS
DATA_PARAMETERS = ("modes", "radius", "spacing", "std")


def options_from_controls(values: dict, points_path: str | None) -> dict:
    """Checked options from the controls' values; parameters of other datasets are left out.

    Raises UserInputError naming the control when a value is missing or out of bounds."""
    dataset = values.get("dataset")
    given = {}
    for name in CONTROL_NAMES:
        value = values.get(name)
        if name in DATA_PARAMETERS and name not in DATASET_PARAMETERS.get(dataset, ()):
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if name in ("energy_hidden",):
                continue  # blank: the same width as the generator
            raise UserInputError(f"{_label(name)} is empty; enter a number", field=name)
        if name == "energy_hidden" and value == 0:
            continue
        given[name] = value
    if dataset == "points":
        if not points_path:
            raise UserInputError("the points dataset needs a file: upload a .csv or .npy of N x 2 numbers first",
                                 field="dataset")
        given["points"] = points_path
    try:
        return resolve(None, given)
    except UserInputError as e:
        raise UserInputError(_with_labels(str(e)), field=_control_named(str(e))) from None


def group_of(name: str) -> str:
    """The group of controls (CONTROL_GROUPS) that holds control `name`."""
    return next(group for group, names in CONTROL_GROUPS.items() if name in names)


def pointer(group: str) -> str:
    """What the status line adds to a control's problem: where the control and its message are."""
    return f"(see {group})"


def group_problems(group: str, values: dict, points_path: str | None, need_points: bool = False) -> list[str]:
    """The problems of `group`'s controls, each checked alone: its value, with every other control
    at its dataset's defaults, so that one bad field says nothing of another. A dataset's hidden
    parameters are not checked; the points file is asked for only when `need_points` (a run starts)."""
    dataset = values.get("dataset")
    file_to_come = "(a file to come)"   # a stand-in: the points file is checked when it is uploaded
    try:
        defaults = controls_from_options(resolve(None, {"dataset": dataset,
                                                        "points": file_to_come if dataset == "points" else None}))
    except UserInputError as e:   # no such dataset: only the dataset itself is wrong
        return [_with_labels(str(e))] if group == group_of("dataset") else []
    problems = []
    for name in CONTROL_GROUPS[group]:
        if name in DATA_PARAMETERS and name not in DATASET_PARAMETERS.get(dataset, ()):
            continue
        alone = {**defaults, "dataset": dataset, name: values.get(name)}
        try:
            options_from_controls(alone, points_path or (None if need_points and name == "dataset" else file_to_come))
        except UserInputError as e:
            problems.append(str(e))
    return problems


def _control_named(message: str) -> str | None:
    """The control whose flag a message of explorer/config/options.py names."""
    return next((o.name for o in OPTIONS_LONGEST_FLAG_FIRST if o.name in CONTROL_NAMES and o.flag in message), None)


def controls_from_options(options: dict) -> dict:
    """The control values that show `options` (the inverse of options_from_controls)."""
    values = {name: options.get(name) for name in CONTROL_NAMES}
    defaults = {**resolve(None, {"dataset": "ring"}), **resolve(None, {"dataset": "grid"})}
    for name in DATA_PARAMETERS:  # parameters of other datasets keep a sensible value, hidden
        if values[name] is None:
            values[name] = defaults[name]
    values["energy_hidden"] = options.get("energy_hidden") or 0
    return values


def _label(name: str) -> str:
    return name.replace("_", " ")


def _with_labels(message: str) -> str:
    """CLI flag names (--batch-size) -> the page's labels (batch size)."""
    for option in OPTIONS_LONGEST_FLAG_FIRST:
        message = message.replace(option.flag, _label(option.name))
    return message


def status_markdown(frame: Frame | None, note: str | None = None, problem: str | None = None,
                    state: str | None = None, step: int | None = None) -> str:
    """One line: step, speed, device, what is shown, a note, and any warning, in plain words.
    `state` and `step` override the frame's own when the caller knows better (Stop, before the
    last frame has arrived)."""
    if frame is None:
        text = html.escape(note or "Choose a pretrained pair or press Train.")
        return text + (f"  \n⚠️ {html.escape(problem)}" if problem else "")
    info = frame.info
    # the word the run's session gave its frame (explorer/training/live.py state_word); a bare Run's frame has none
    state = state or info.get("state") or ("training" if info.get("training") else
                                           "paused" if info.get("paused") else
                                           "finished" if frame.step >= frame.total_steps else "idle")
    step = frame.step if step is None else step
    counter = (f"**step {step:,} / {frame.total_steps:,}**" if step <= frame.total_steps
               else f"**step {step:,}** ({step - frame.total_steps:,} past the planned {frame.total_steps:,})")
    parts = [counter, state]
    if info.get("steps_per_second"):
        parts.append(f"{info['steps_per_second']:,.0f} steps/s")
    parts.append(f"device {info.get('device', 'cpu')}")
    if info.get("source"):
        parts.append(html.escape(str(info["source"])))
    if note:
        parts.append(html.escape(note))
    text = " · ".join(parts)
    for warning in (info.get("warning"), info.get("error"), problem):
        if warning:
            text += f"  \n⚠️ {html.escape(str(warning))}"
    return text


def in_page_words(message: str) -> str:
    """A message that names command-line flags, with the page's control labels instead."""
    return _with_labels(message)
