"""The Compare view: two runs identical but for one setting (explorer/page/compare.py), its chart, its
handlers through gradio_client, and the tab in a real browser."""
import base64
import json
import os
import re
import time

import numpy as np
import pytest
import torch

from explorer.errors import UserInputError
from explorer.figures.compare import contrast_summary, coverage_figure
from explorer.page import compare
from explorer.training.run import Run


def values(array) -> list:
    """A Plotly JSON array as a list: plotly sends numpy arrays as base64 typed arrays."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


# ---------------------------------------------------------------------------- the two option sets
@pytest.mark.parametrize("contrast, setting, values", [
    ("entropy", "entropy_weight", (0.0, 1.0)),
    ("estimator", "entropy", ("batchnorm", "knn")),
    ("sampler", "sampler", ("generator", "langevin")),
])
def test_the_sides_differ_in_exactly_one_setting(contrast, setting, values):
    left, right, names = compare.side_options("lesson", contrast, seed=3)
    assert (left[setting], right[setting]) == values
    assert {k for k in left if left[k] != right[k]} == {setting}
    assert left["seed"] == right["seed"] == 3
    assert left["dataset"] == "ring" and left["lr_generator"] == 1e-3   # the preset's own settings
    assert len(set(names)) == 2


def test_entropy_contrast_keeps_the_presets_estimator_and_weight():
    left, right, names = compare.side_options("ring", "entropy", seed=0, steps=400)
    assert (left["entropy"], right["entropy"]) == ("knn", "knn")   # the defaults' estimator
    assert left["steps"] == right["steps"] == 400
    assert "knn" in names[1]
    left, right, names = compare.side_options("paper", "entropy", seed=0)
    assert (left["entropy"], right["entropy"]) == ("batchnorm", "batchnorm") and "batchnorm" in names[1]


def test_the_method_contrast_sets_each_methods_own_settings():
    left, right, names = compare.side_options("ring", "method", seed=0)
    assert (left["method"], right["method"]) == ("paper", "energylab")
    assert (left["entropy"], left["refine"], left["resample"]) == ("batchnorm", 0, 0)
    assert (right["entropy"], right["refine"], right["resample"]) == ("knn", 5, 4)
    assert left["steps"] == right["steps"] and names == ("the paper's method", "EnergyLab's method")


@pytest.mark.parametrize("preset, contrast, estimators, message", [
    ("nope", "entropy", ("batchnorm", "knn"), "unknown preset"),
    ("points", "entropy", ("batchnorm", "knn"), "needs a file"),
    ("lesson", "lr", ("batchnorm", "knn"), "unknown comparison"),
    ("lesson", "estimator", ("knn", "knn"), "two different"),
    ("lesson", "estimator", ("knn", "magic"), "unknown entropy estimator"),
])
def test_bad_comparisons_are_refused_with_a_message(preset, contrast, estimators, message):
    with pytest.raises(UserInputError, match=message):
        compare.side_options(preset, contrast, seed=0, estimators=estimators)


def test_bad_steps_are_refused_by_the_option_bounds():
    with pytest.raises(UserInputError, match="steps"):
        compare.side_options("lesson", "entropy", seed=0, steps=0)


def test_both_runs_start_from_the_same_networks_and_data():
    left, right, _ = compare.side_options("lesson", "entropy", seed=5)
    a, b = Run(left), Run(right)
    for x, y in zip([*a.energy.parameters(), *a.generator.parameters()],
                    [*b.energy.parameters(), *b.generator.parameters()], strict=True):
        assert torch.equal(x, y)
    assert np.array_equal(a._batch().numpy(), b._batch().numpy())
    assert np.array_equal(a.probe_real, b.probe_real)


def test_a_comparison_trains_both_sides_and_reports_their_coverage():
    left, right, names = compare.side_options("lesson", "entropy", seed=0, steps=260)
    comparison = compare.Comparison(left, right, names, device="cpu")
    comparison.start()
    deadline = time.time() + 120
    while comparison.training:
        assert time.time() < deadline
        comparison.watched()   # read, as the page does: a run nobody reads is abandoned (live.py)
        time.sleep(0.05)
    assert comparison.done
    coverage = comparison.coverage()
    assert coverage["key"] == "modes_covered" and coverage["total"] == 8
    for name in names:
        steps, values = coverage["curves"][name]
        assert list(steps) == [250, 260] and all(0 <= v <= 8 for v in values)
    (left_frame, right_frame), _ = comparison.frames()
    assert left_frame.step == right_frame.step == 260
    # same seed, same start; only the entropy term separates them
    assert not np.array_equal(left_frame.fake, right_frame.fake)


def test_digits_count_classes():
    left, _, _ = compare.side_options("digits-lesson", "entropy", seed=0)
    assert compare.coverage_key(left) == ("classes_covered", "classes covered (of 10)")
    assert compare.coverage_total(left) == 10


# ---------------------------------------------------------------------------- the chart
COVERAGE = {"key": "modes_covered", "label": "modes covered", "total": 8,
            "curves": {"entropy weight 0": (np.array([250, 500]), np.array([3.0, 2.0])),
                       "entropy weight 1 (knn)": (np.array([250, 500]), np.array([7.0, 8.0]))}}


def test_coverage_chart_has_one_line_per_side_and_the_total():
    figure = json.loads(coverage_figure(COVERAGE, 3000).to_json())
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["entropy weight 0", "entropy weight 1 (knn)", "all 8"]
    assert values(figure["data"][0]["y"]) == [3.0, 2.0] and values(figure["data"][1]["y"]) == [7.0, 8.0]
    assert values(figure["data"][2]["y"]) == [8, 8]
    title = figure["layout"]["title"]["text"]
    assert "entropy weight 0: 2" in title and "entropy weight 1 (knn): 8" in title


def test_contrast_summary_states_the_newest_numbers_and_the_gap():
    text = contrast_summary(COVERAGE)
    assert "2/8 at step 500" in text and "8/8 at step 500" in text and "gap 6 modes covered" in text
    empty = {**COVERAGE, "curves": {name: (np.array([]), np.array([])) for name in COVERAGE["curves"]}}
    assert "not measured yet" in contrast_summary(empty)


# ---------------------------------------------------------------------------- through the app
def test_compare_streams_both_landscapes_and_the_chart(app_url):
    from gradio_client import Client
    client = Client(app_url, verbose=False)
    job = client.submit("lesson", "entropy", "batchnorm", "knn", 0, 300, api_name="/compare_train")
    deadline = time.time() + 120
    while not job.done():
        assert time.time() < deadline
        time.sleep(0.1)
    frames = job.outputs()
    assert len(frames) >= 2
    left, right, chart, status = frames[-1][:4]
    for figure in (left, right):
        assert "step 300" in json.loads(figure)["layout"]["title"]["text"]
    assert "entropy weight 0" in json.loads(left)["layout"]["title"]["text"]
    charts = [json.loads(f[2]) for f in frames if isinstance(f[2], str)]
    assert [values(t["x"]) for t in charts[-1]["data"][:2]] == [[250, 300], [250, 300]]
    assert "finished" in status and "/8 at step 300" in status


def test_compare_refuses_bad_input_and_keeps_working(app_url):
    from gradio_client import Client
    client = Client(app_url, verbose=False)
    outputs = client.predict("lesson", "estimator", "knn", "knn", 0, 300, api_name="/compare_train")
    assert "two different" in outputs[3]
    outputs = client.predict("lesson", "entropy", "batchnorm", "knn", 0, -5, api_name="/compare_train")
    assert "steps" in outputs[3] and "⚠️" in outputs[3]
    outputs = client.predict(api_name="/compare_stop")
    assert "nothing to stop" in outputs[3]


# ---------------------------------------------------------------------------- in the browser
CHROMIUM = os.environ.get("ENERGYLAB_CHROMIUM", "/usr/bin/chromium")


def left_step(page) -> int:
    """The left run's step, as the Compare tab's status says it."""
    match = re.search(r"step ([\d,]+)", page.inner_text("#compare-status"))
    return int(match.group(1).replace(",", "")) if match else 0


def test_compare_tab_in_the_browser(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install -y chromium (or set ENERGYLAB_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(60_000)
        page.goto(app_url)
        page.wait_for_selector("#landscape .main-svg")
        page.get_by_role("tab", name="Compare").click()
        steps = page.get_by_label("steps", exact=True).last
        steps.fill("20000")
        steps.press("Tab")
        page.click("#compare-train")
        page.wait_for_selector("#compare-left .main-svg")
        page.wait_for_selector("#compare-right .main-svg")
        # the first coverage measurement (step 250) reaches the chart: two lines and the total
        page.wait_for_function("document.querySelectorAll('#compare-coverage .scatterlayer .trace').length >= 3",
                               timeout=90_000)
        # Pause then Train both in one instant: the page holds the click until Train both's stream has ended,
        # and both runs train on (explorer/page/train_clicks.py; Gradio's default dropped it)
        page.evaluate("() => { for (const id of ['compare-pause', 'compare-train']) document.getElementById(id).click(); }")
        # a lost click leaves both paused a chunk or so past here; the runs coming back and going out
        # again take a few seconds with two tests at a time, so wait for steps a paused run cannot reach
        moving_from = left_step(page)
        page.wait_for_function(
            "from => { const s = document.querySelector('#compare-status').innerText;"
            " const m = s.match(/step ([\\d,]+)/); return s.includes('training') && m"
            " && Number(m[1].replace(/,/g, '')) > from + 30; }", arg=moving_from, timeout=90_000)
        page.click("#compare-stop")
        page.wait_for_function("document.querySelector('#compare-status').innerText.includes('stopped')")
        status = page.inner_text("#compare-status")
        assert "entropy weight 0" in status and "/8 at step" in status
        browser.close()
