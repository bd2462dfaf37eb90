"""A control's problem beside it (explorer/page/controls.py group_problems, explorer/ui/tabs/field_checks.py):
the error names its control, each group's fields are checked alone, the message goes when the
field is fixed, and Train/Reset/Step open a folded group that holds a problem."""
import pytest

from explorer.config.options import resolve
from explorer.errors import UserInputError
from explorer.page import controls
from explorer.page.state import PageState
from explorer.ui.layout import build_page
from explorer.ui.tabs import field_checks
from explorer.ui.tabs import train as train_tab

RING = controls.controls_from_options(resolve(None, {"dataset": "ring"}))


def values(**changes) -> dict:
    return {**RING, **changes}


def as_list(**changes) -> list:
    return [values(**changes)[name] for name in controls.CONTROL_NAMES]


@pytest.mark.parametrize("changes, field", [
    ({"std": 0}, "std"),
    ({"dataset": "grid", "modes": 7}, "modes"),
    ({"entropy_weight": None}, "entropy_weight"),
    ({"entropy_weight": -1}, "entropy_weight"),
    ({"lr_energy": 2}, "lr_energy"),
    ({"batch_size": 0}, "batch_size"),
    ({"dataset": "points"}, "dataset"),
])
def test_a_controls_error_names_the_control(changes, field):
    with pytest.raises(UserInputError) as raised:
        controls.options_from_controls(values(**changes), None)
    assert raised.value.field == field


def test_each_field_is_checked_alone_in_its_own_group():
    bad = values(std=0, lr_energy=-1, entropy_weight=-1.5)
    assert controls.group_problems("data", bad, None) == ["std must be between 0.01 and 10, got 0"]
    assert controls.group_problems("method", bad, None) == ["entropy weight must be between 0 and 100, got -1.5"]
    assert controls.group_problems("advanced", bad, None) == ["lr energy must be between 1e-06 and 1, got -1"]
    assert all(controls.group_problems(group, RING, None) == [] for group in controls.CONTROL_GROUPS)
    assert controls.group_problems("data", values(spacing=-5), None) == []   # the ring has no spacing: hidden
    # the points file is asked for when a run starts, not while the user is still choosing
    assert controls.group_problems("data", values(dataset="points"), None) == []
    assert "needs a file" in controls.group_problems("data", values(dataset="points"), None, need_points=True)[0]
    assert controls.group_problems("method", values(dataset="points"), None, need_points=True) == []


@pytest.fixture(scope="module")
def page():
    return build_page()


def keyed(updates: dict) -> dict:
    """Updates by elem_id (the status line's is "status")."""
    return {getattr(component, "elem_id", None): value for component, value in updates.items()}


def test_the_status_points_to_the_group_and_the_message_goes_when_the_field_is_fixed(page):
    state = PageState()
    status = train_tab.reset(page, state, *as_list(std=0))[page.status]
    assert "⚠️ std must be between 0.01 and 10, got 0 (see data)" in status
    shown = keyed(field_checks.group_check("data")(page, state, status, *as_list(std=0)))
    assert shown["data-message"]["visible"] and "std must be between" in shown["data-message"]["value"]
    assert "status" not in shown   # the warning stays while the field is bad
    fixed = keyed(field_checks.group_check("data")(page, state, status, *as_list(std=0.1)))
    assert fixed["data-message"] == {"__type__": "update", "value": "", "visible": False}
    assert "⚠️" not in fixed["status"]   # without pressing anything
    # a warning that points elsewhere is not the data group's to clear
    other = keyed(field_checks.group_check("data")(page, state, "⚠️ lr energy … (see advanced)", *as_list()))
    assert "status" not in other and not other["data-message"]["visible"]


def test_a_new_dataset_is_checked_with_the_defaults_it_brings(page):
    """Choosing the grid brings its 25 modes a moment later: the ring's 8 must not flash a problem."""
    state = PageState()
    shown = keyed(field_checks.group_check("data", dataset_changed=True)(page, state, "", *as_list(dataset="grid")))
    assert not shown["data-message"]["visible"]
    shown = keyed(field_checks.group_check("data")(page, state, "", *as_list(dataset="grid", modes=8)))
    assert "square number" in shown["data-message"]["value"]


def test_train_reset_and_step_open_a_folded_group_that_holds_a_problem(page):
    shown = keyed(field_checks.check_all(page, PageState(), *as_list(batch_size=0)))
    assert shown["advanced-group"] == {"__type__": "update", "open": True}
    assert "batch size must be between" in shown["advanced-message"]["value"]
    assert "data-group" not in shown and not shown["data-message"]["visible"]
