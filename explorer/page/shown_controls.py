"""What the page's controls show: the values of an experiment, or a dataset's defaults when the
dataset is changed, with each dataset's own parameters visible and the others hidden.

Each function returns, per control (controls.CONTROL_NAMES, and "points_file" for the points
upload), the properties to set: {"value": ..., "visible": ...}; a control left out stays as it is.
"""
from __future__ import annotations

from collections.abc import Mapping

from explorer.config.dataset_defaults import DATASET_DEFAULTS
from explorer.config.options import OPTION_BY_NAME
from explorer.page.controls import CONTROL_NAMES, DATA_PARAMETERS, DATASET_PARAMETERS, controls_from_options


def showing(options: Mapping) -> dict[str, dict]:
    """Every control set to show `options`, the dataset's own parameters visible."""
    values = controls_from_options(options)
    visible = DATASET_PARAMETERS.get(options["dataset"], ())
    shown = {}
    for name in CONTROL_NAMES:
        shown[name] = {"value": values[name]}
        if name in DATA_PARAMETERS:
            shown[name]["visible"] = name in visible
    shown["points_file"] = {"visible": options["dataset"] == "points"}
    return shown


def dataset_changed(dataset: str) -> dict[str, dict]:
    """The dataset was changed: show its own parameters and its defaults (DATASET_DEFAULTS), and
    put back the plain default of what another dataset's defaults set; the rest stays as the user had it."""
    visible = DATASET_PARAMETERS.get(dataset, ())
    defaults = DATASET_DEFAULTS.get(dataset, {})
    shown = {}
    for name in CONTROL_NAMES:
        if name == "dataset":
            continue
        if name in DATA_PARAMETERS:
            shown[name] = {"visible": name in visible, **({"value": defaults[name]} if name in defaults else {})}
        elif name in defaults:
            shown[name] = {"value": defaults[name]}
        elif any(name in other for other in DATASET_DEFAULTS.values()):
            # set by another dataset's defaults (the grid's steps, the digits' width): back to the plain default
            shown[name] = {"value": OPTION_BY_NAME[name].default}
    shown["points_file"] = {"visible": dataset == "points"}
    return shown
