"""The page's layout as built (no browser): the lesson and the picture come first, the controls
sit in the groups explorer/page/controls.py names, and what a student changes is open."""
import gradio as gr
import pytest

from explorer.page import controls
from explorer.ui.layout import build_page


@pytest.fixture(scope="module")
def page():
    return build_page()


def accordion_of(component) -> gr.Accordion | None:
    block = component.parent
    while block is not None and not isinstance(block, gr.Accordion):
        block = block.parent
    return block


def column_of(component) -> gr.Column:
    block = component.parent
    while not isinstance(block, gr.Column):
        block = block.parent
    return block


def test_the_lesson_and_the_picture_come_before_the_controls(page):
    lesson_column, controls_column = column_of(page.lesson.panel), column_of(page.train.train_button)
    assert lesson_column is not controls_column and lesson_column.parent is controls_column.parent
    row = lesson_column.parent.children
    assert row.index(lesson_column) < row.index(controls_column)   # reading order, and stacking on a narrow screen
    assert column_of(page.landscape.landscape) is lesson_column and column_of(page.status) is lesson_column


def test_each_control_sits_in_its_group_and_only_advanced_is_folded(page):
    groups = page.train.groups
    assert list(groups) == list(controls.CONTROL_GROUPS) == ["data", "method", "advanced"]
    assert sorted(name for names in controls.CONTROL_GROUPS.values() for name in names) == sorted(
        controls.CONTROL_NAMES)
    for group, names in controls.CONTROL_GROUPS.items():
        for name in names:
            assert accordion_of(page.train.controls[name]) is groups[group], name
    assert groups["data"].open and groups["method"].open and not groups["advanced"].open
    # what a student changes is in view at once: the data, the method and the entropy weight
    for name in ("dataset", "method", "entropy_weight", "entropy", "steps"):
        assert accordion_of(page.train.controls[name]).open, name
    assert accordion_of(page.train.pretrained) is None and accordion_of(page.train.train_button) is None
