"""Draw your own data, replay a run, export figures and history: the pure modules
(explorer/data/drawing.py, explorer/training/replay.py, explorer/page/export.py), then the app's handlers through
gradio_client against `python app.py` (conftest.app_url)."""
import base64
import csv
import io
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.config.options import resolve
from explorer.data import drawing
from explorer.data.points import load_points, standardise
from explorer.errors import UserInputError
from explorer.measures.probes import Frame, Landscape
from explorer.page import export
from explorer.training import replay
from explorer.training.live import LiveSession


# ---------------------------------------------------------------------------- replay store
def frame(step: int, resolution: int = 8, history=None) -> Frame:
    """A small frame: 16 points per set and a resolution x resolution landscape."""
    points = np.zeros((16, 2), np.float32)
    energies = np.zeros(16, np.float32)
    grid = np.linspace(-1, 1, resolution, dtype=np.float32)
    land = Landscape(xs=grid, ys=grid, energy=np.zeros((resolution, resolution), np.float32), log_z=0.0,
                     mass_outside=0.0)
    return Frame(step=step, total_steps=10_000, dim=2, real=points, fake=points, energy_real=energies,
                 energy_fake=energies, energy_noise=energies, history=history or {}, bounds=(-1, 1, -1, 1),
                 landscape=land)


def test_frame_bytes_counts_the_arrays():
    f = frame(0, resolution=10)
    # 2 x (16, 2) points + 3 x 16 energies + xs, ys (10 each) + a 10 x 10 landscape, float32
    assert replay.frame_bytes(f) == 4 * (2 * 32 + 3 * 16 + 10 + 10 + 100)


def test_a_long_run_stays_bounded_and_covered_from_first_to_last_step():
    store = replay.ReplayStore(max_frames=50)
    rng = np.random.default_rng(0)
    step = 0
    for _ in range(20_000):
        step += int(rng.integers(1, 40))   # frames arrive at uneven steps, as chunks of a live run do
        store.add(frame(step if len(store) else 0))
    last = step
    steps = store.steps()
    assert len(steps) <= 50
    assert steps[0] == 0 and steps[-1] == last
    assert all(b > a for a, b in zip(steps, steps[1:], strict=False))
    gaps = np.diff(steps)
    # thinning keeps it even: interior gaps at least `spacing`, none far beyond an even split
    assert gaps[:-1].min() >= store.spacing
    assert gaps.max() <= 2 * store.spacing + 40
    assert gaps.max() <= 4 * steps[-1] / len(steps)
    assert len(steps) >= 50 // 4   # thinning halves, never empties


def test_the_byte_budget_thins_too():
    one = replay.frame_bytes(frame(0, resolution=50))
    store = replay.ReplayStore(max_frames=1000, max_bytes=20 * one)
    for step in range(0, 5000, 5):
        store.add(frame(step, resolution=50))
    assert store.nbytes <= 20 * one and len(store) <= 20
    assert store.steps()[0] == 0 and store.steps()[-1] == 4995


def test_the_newest_frame_is_always_kept_and_replaced_when_too_close():
    store = replay.ReplayStore(max_frames=4)
    for step in range(0, 100):
        store.add(frame(step))
        assert store.newest().step == step and store.steps()[0] == 0
    assert len(store) <= 4 and store.spacing > 1


def test_the_same_step_again_replaces_its_frame():
    store = replay.ReplayStore()
    store.add(frame(10, resolution=4))
    store.add(frame(10, resolution=6))   # e.g. the fine frame after a pause
    assert store.steps() == [10] and store.newest().landscape.energy.shape == (6, 6)


def test_a_run_that_goes_back_forgets_the_frames_past_it():
    store = replay.ReplayStore()
    for step in range(0, 200, 10):
        store.add(frame(step))
    store.add(frame(105))   # divergence restored step 105
    assert store.steps() == list(range(0, 110, 10)) + [105]


def test_stored_frames_leave_the_history_to_the_run():
    store = replay.ReplayStore()
    store.add(frame(5, history={"loss_energy": (np.arange(5), np.zeros(5))}))
    assert store.newest().history == {}


def test_nearest_frame():
    store = replay.ReplayStore()
    assert store.nearest(3) is None and store.newest() is None and store.steps() == []
    for step in (0, 10, 20):
        store.add(frame(step))
    assert [store.nearest(s).step for s in (-5, 4, 5, 6, 14, 16, 20, 99)] == [0, 0, 0, 10, 10, 20, 20, 20]
    store.clear()
    assert len(store) == 0 and store.spacing == 1


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.integers(0, 300), min_size=1, max_size=400), max_frames=st.integers(2, 30))
def test_store_invariants_for_any_arrival_of_steps(gaps, max_frames):
    store = replay.ReplayStore(max_frames=max_frames)
    step = 0
    for gap in gaps:
        step += gap
        store.add(frame(step))
    steps = store.steps()
    assert steps[0] == gaps[0] and steps[-1] == step
    assert len(steps) <= max_frames
    assert all(b > a for a, b in zip(steps, steps[1:], strict=False))


def test_a_live_session_keeps_its_frames_and_a_new_run_or_loaded_pair_starts_afresh():
    session = LiveSession(device="cpu")
    session.new_run(resolve(None, {"dataset": "ring", "hidden": 16, "batch_size": 32, "steps": 100}))
    for _ in range(3):
        session.step(10)
    assert session.replay.steps() == [0, 10, 20, 30]
    session.new_run(resolve(None, {"dataset": "ring", "hidden": 16, "batch_size": 32, "steps": 100}))
    assert session.replay.steps() == [0]


def test_a_pretrained_pair_has_one_frame_to_replay():
    from explorer.pairs import catalogue
    pair = catalogue.find("ring")
    session = LiveSession(device="cpu")
    run = session.load(str(pair.folder), "pretrained: ring")
    assert session.replay.steps() == [run.step]
    assert session.replay.nearest(0).step == run.step


def test_step_marker_shapes_mark_each_panel():
    shapes = replay.step_marker_shapes(120, 3)
    assert [(s["xref"], s["yref"], s["x0"]) for s in shapes] == [("x", "y domain", 120), ("x2", "y2 domain", 120),
                                                                   ("x3", "y3 domain", 120)]


# ---------------------------------------------------------------------------- drawing
def drawn(n=30, seed=0):
    return np.random.default_rng(seed).uniform(-2.5, 2.5, (n, 2)).round(4)


def test_a_drawing_parses_to_its_points():
    points = drawn()
    parsed = drawing.parse_drawing(json.dumps(points.tolist()))
    assert parsed.dtype == np.float32 and parsed.shape == (30, 2)
    np.testing.assert_allclose(parsed, points, atol=1e-6)
    # the object form is accepted too
    assert drawing.parse_drawing(json.dumps({"points": points.tolist()})).shape == (30, 2)


@pytest.mark.parametrize("text, expected", [
    (None, "nothing drawn yet"),
    ("", "nothing drawn yet"),
    ("[[0, 0], [1", "not valid JSON"),
    ('{"x": 1}', "list of [x, y] pairs"),
    (json.dumps(drawn(19).tolist()), "19 points drawn; at least 20"),
    (json.dumps(drawn(5001).tolist()), "5,001 points drawn; at most 5,000"),
    (json.dumps(drawn().tolist()[:-1] + [[0.5, 3.5]]), "point 30 (0.5, 3.5) lies outside the canvas box"),
    (json.dumps(drawn().tolist()[:-1] + [[1, 2, 3]]), "point 30 is [1, 2, 3]; every point must be a pair"),
    (json.dumps(drawn().tolist()[:-1] + [[1, "a"]]), "point 30 has a where a number belongs"),
    (json.dumps(drawn().tolist()[:-1] + [[True, 1]]), "where a number belongs"),
    ("[[NaN, 0], " + json.dumps(drawn().tolist())[1:], "point 1 is not a finite number"),
    (json.dumps([[1.0, y] for y in np.linspace(-1, 1, 25)]), "every point has the same x"),
    ("x" * 400_001, "at most 400,000"),
])
def test_bad_drawings_are_refused_with_a_message(text, expected):
    with pytest.raises(UserInputError, match=re.escape(expected)):
        drawing.parse_drawing(text)


def test_infinity_is_refused():
    text = json.dumps([[0.1 * i, 0.2 * i] for i in range(25)]).replace("[0.0, 0.0]", "[Infinity, 0]")
    with pytest.raises(UserInputError, match="point 1 is not a finite number"):
        drawing.parse_drawing(text)


def test_saved_points_are_read_back_by_the_points_dataset(tmp_path):
    points = drawing.parse_drawing(json.dumps(drawn(200).tolist()))
    path = drawing.save_points(points, str(tmp_path / "drawn.csv"))
    np.testing.assert_allclose(load_points(path), points, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", drawing.STARTERS)
def test_starters_are_valid_drawings_and_deterministic(name):
    points = drawing.starter(name)
    assert np.array_equal(points, drawing.starter(name))
    assert drawing.parse_drawing(drawing.to_json(points)).shape == points.shape
    assert drawing.MIN_DRAWN <= len(points) <= drawing.MAX_DRAWN and np.abs(points).max() <= drawing.BOX


def test_an_unknown_starter_is_refused():
    with pytest.raises(UserInputError, match="unknown starter"):
        drawing.starter("teapot")


# ---------------------------------------------------------------------------- export
def read_history_csv(text: str) -> dict:
    """history_csv's text read back, as a spreadsheet would: {name: [(step, value), ...]}, blanks skipped."""
    header, *rows = csv.reader(io.StringIO(text))
    assert header[0] == "step"
    history = {name: [] for name in header[1:]}
    for row in rows:
        for name, cell in zip(header[1:], row[1:], strict=True):
            if cell != "":
                history[name].append((int(row[0]), float(cell)))
    return history


def test_history_csv_has_a_step_column_and_blanks_where_a_metric_was_not_recorded():
    history = {"loss_energy": [(1, 0.5), (2, -0.25)], "nll": [(2, 3.0)]}
    text = export.history_csv(history)
    assert text.splitlines() == ["step,loss_energy,nll", "1,0.5,", "2,-0.25,3.0"]
    assert read_history_csv(text) == history


def test_history_csv_keeps_the_later_value_of_a_repeated_step():
    assert read_history_csv(export.history_csv({"a": [(5, 1.0), (5, 2.0)]})) == {"a": [(5, 2.0)]}


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["loss_energy", "loss_generator", "entropy", "nll", "modes_covered", "validation_nll"]),
    st.dictionaries(st.integers(0, 10**6), st.floats(allow_nan=False, width=64), min_size=0, max_size=30),
    min_size=0, max_size=6))
def test_history_csv_round_trips(table):
    history = {name: sorted(rows.items()) for name, rows in table.items()}
    assert read_history_csv(export.history_csv(history)) == history


def test_figure_html_holds_the_figure_and_plotly_inline_with_no_web_script():
    figure = {"data": [{"type": "scatter", "x": [0.125, 0.5], "y": [7.75, 8.5], "name": "real data"}],
              "layout": {"title": {"text": "energy · step 1234"}, "template": "plotly_white"}}
    html = export.figure_html(json.dumps(figure), title="energylab-landscape-step1234")
    assert "step 1234" in html and "7.75" in html and "real data" in html
    assert len(html) > 3_000_000 and "Plotly.newPlot" in html    # plotly.js itself is in the file
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?https?:", html, re.IGNORECASE)
    assert "<title>energylab-landscape-step1234</title>" in html


def test_an_animated_figure_keeps_its_frames():
    figure = {"data": [{"type": "scatter", "x": [0], "y": [0]}], "layout": {},
              "frames": [{"name": "f0", "data": [{"x": [0.25]}]}, {"name": "f1", "data": [{"x": [0.75]}]}]}
    html = export.figure_html(figure)
    assert "addFrames" in html and '"f1"' in html


def test_text_in_a_figure_cannot_close_the_script():
    figure = {"data": [], "layout": {"title": {"text": "</script><script>alert(1)</script>"}}}
    html = export.figure_html(figure)
    assert "<script>alert(1)" not in html


@pytest.mark.parametrize("figure, expected", [
    (None, "has not been drawn yet"),
    ("", "has not been drawn yet"),
    ("{not json", "not valid Plotly JSON"),
    ('{"layout": {}}', "not Plotly JSON"),
    ('[1, 2]', "not Plotly JSON"),
])
def test_bad_figures_are_refused(figure, expected):
    with pytest.raises(UserInputError, match=expected):
        export.figure_html(figure)


def test_export_names_and_unique_paths(tmp_path):
    assert export.export_name("landscape", 1200, "ring") == "energylab-ring-landscape-step1200"
    assert export.export_name("curves", None) == "energylab-curves"
    first = export.unique_path(str(tmp_path), "a", "csv")
    open(first, "w").close()
    assert export.unique_path(str(tmp_path), "a", "csv").endswith("a-2.csv")


# ---------------------------------------------------------------------------- the app, through gradio_client
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

RING = {"dataset": "ring", "modes": 8, "radius": 2.0, "spacing": 2.0, "std": 0.05, "sampler": "generator",
        "method": "paper", "entropy": "batchnorm", "entropy_weight": 1.0, "lr_energy": 1e-3, "lr_generator": 1e-3,
        "batch_size": 64, "hidden": 32, "energy_hidden": 0, "latent_dim": 4, "steps": 300, "seed": 0}


def controls(**changes):
    return list({**RING, **changes}.values())


@pytest.fixture
def client(app_url):
    return Client(app_url, verbose=False)


def values(array) -> np.ndarray:
    """A trace's array as the page receives it: a list, or plotly's typed array (base64)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return np.asarray(array, dtype=np.float64)


def title_step(landscape_json) -> int:
    title = json.loads(landscape_json)["layout"]["title"]["text"]
    return int(re.search(r"step (\d+)", title).group(1))


def test_drawn_points_become_the_points_dataset_and_train(client):
    points = drawn(60, seed=3)
    outputs = client.predict(json.dumps(points.tolist()), *controls(), api_name="/use_drawing")
    status, dataset = outputs[3], outputs[4]
    assert "60 drawn points" in status and "step 0 / 3,000" in status, status
    assert dataset["value"] == "points" and outputs[-2] is not None   # the landscape tab opens
    assert outputs[-1]["value"] is None   # and the pretrained-pair menu empties: a new run, no catalogue pair
    # the landscape shows the drawn points, standardised (explorer/data/points.standardise)
    landscape = json.loads(outputs[0])
    real = next(t for t in landscape["data"] if t.get("name") == "real data")
    shown = np.column_stack([values(real["x"]), values(real["y"])])
    expected = standardise(points)[0]
    distance = np.abs(shown[:, None, :] - expected[None, :, :]).max(axis=2).min(axis=1)
    assert distance.max() < 1e-3
    outputs = client.predict(10, *controls(dataset="points"), api_name="/step_both")
    assert "stepped 10" in outputs[3] and "step 10 / 300" in outputs[3] and "⚠️" not in outputs[3]
    assert title_step(outputs[0]) == 10


@pytest.mark.parametrize("text, expected", [
    ("[]", "0 points drawn; at least 20 are needed"),
    (json.dumps(drawn(25).tolist() + [[4.0, 0.0]]), "point 26 (4, 0) lies outside the canvas box"),
    ("[[NaN, 1], " + json.dumps(drawn(25).tolist())[1:], "point 1 is not a finite number"),
])
def test_bad_drawings_get_a_message_and_the_session_keeps_working(client, text, expected):
    outputs = client.predict(text, *controls(), api_name="/use_drawing")
    assert "⚠️" in outputs[3] and expected in outputs[3]
    outputs = client.predict(json.dumps(drawn(30).tolist()), *controls(), api_name="/use_drawing")
    assert "30 drawn points" in outputs[3]


def test_a_starter_shape_fills_the_canvas(client):
    text = client.predict("two blobs", api_name="/draw_starter")
    assert np.array_equal(np.array(json.loads(text), np.float32), drawing.starter("two blobs").round(4))


def test_replay_shows_the_frame_of_an_earlier_step_then_live(client):
    client.predict(*controls(), api_name="/reset")
    for _ in range(3):
        outputs = client.predict(10, *controls(), api_name="/step_both")
    assert title_step(outputs[0]) == 30
    slider = client.predict(api_name="/replay_range")   # the page runs it after every status change
    assert (slider["minimum"], slider["maximum"], slider["value"]) == (0, 30, 30)
    outputs = client.predict(10, api_name="/replay")
    assert title_step(outputs[0]) == 10 and "replaying step 10" in outputs[3]
    assert "step 30 / 300" in outputs[3]                # the run itself is still at step 30
    curves = json.loads(outputs[1])
    assert {s["x0"] for s in curves["layout"]["shapes"]} == {10}
    assert [t["name"] for t in json.loads(outputs[2])["data"]] == ["uniform noise", "real data", "generated"]
    assert client.predict(12, api_name="/replay")[3].count("replaying step 10")   # the nearest kept frame
    outputs = client.predict(api_name="/replay_live")
    assert title_step(outputs[0]) == 30 and outputs[4]["value"] == 30
    # a Step while replaying returns to live
    client.predict(20, api_name="/replay")
    outputs = client.predict(10, *controls(), api_name="/step_both")
    assert title_step(outputs[0]) == 40 and "replaying" not in outputs[3]


def test_a_pretrained_pair_replays_its_one_frame(client):
    outputs = client.predict("ring", api_name="/choose_pretrained")
    step = title_step(outputs[0])
    slider = client.predict(api_name="/replay_range")
    assert slider["minimum"] == step and slider["value"] == step and slider["interactive"] is False
    outputs = client.predict(step, api_name="/replay")
    assert title_step(outputs[0]) == step and "⚠️" not in outputs[3]


def test_csv_export_of_the_metric_history(client):
    client.predict(*controls(), api_name="/reset")
    client.predict(10, *controls(), api_name="/step_both")
    outputs = client.predict(10, *controls(), api_name="/step_both")
    csv_file = client.predict(api_name="/export_csv")[4]["value"]
    assert csv_file.endswith("energylab-ring-history-step20.csv")
    with open(csv_file) as f:
        history = read_history_csv(f.read())
    # Step records every step: losses at steps 1..20, and nothing evaluated yet (every 250 steps)
    assert [s for s, _ in history["loss_energy"]] == list(range(1, 21))
    assert {"loss_generator", "energy_real", "energy_fake", "entropy"} <= set(history)
    assert all(math.isfinite(v) for rows in history.values() for _, v in rows)
    assert "step 20" in outputs[3]


def test_html_export_of_the_shown_landscape_and_a_figure_not_drawn_yet(client):
    client.predict(*controls(), api_name="/reset")
    landscape = client.predict(10, *controls(), api_name="/step_both")[0]
    outputs = client.predict("landscape", landscape, None, None, None, None, None, api_name="/export_html")
    path = outputs[4]["value"]
    assert path.endswith("energylab-ring-landscape-step10.html") and "ready" in outputs[3]
    with open(path, encoding="utf-8") as f:
        html = f.read()
    assert "step 10" in html and json.loads(landscape)["data"][0]["type"] in html
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?https?:", html, re.IGNORECASE)
    outputs = client.predict("gallery", landscape, None, None, None, None, None, api_name="/export_html")
    assert "⚠️" in outputs[3] and "has not been drawn yet" in outputs[3]


def test_html_export_of_a_first_view_the_page_still_holds(client):
    """Before its load event answers, a page holds the default pair's marked first view."""
    from explorer.ui.plot_view import FIRST_VIEW_MARK
    client.predict(*controls(), api_name="/reset")
    landscape = client.predict(10, *controls(), api_name="/step_both")[0]
    outputs = client.predict("landscape", FIRST_VIEW_MARK + landscape, None, None, None, None, None,
                             api_name="/export_html")
    assert "ready" in outputs[3]
    with open(outputs[4]["value"], encoding="utf-8") as f:
        assert "step 10" in f.read()
