"""The shareable link (explorer/page/links.py): encode/decode round trips, hostile links fall back to
the defaults with a message, and the same link trains the same pair (through gradio_client)."""
import json
import math
import time
import zipfile
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer.config import options
from explorer.data.datasets import DATASET_NAMES
from explorer.page import lesson, links
from explorer.page.controls import CONTROL_NAMES

PAIRS = ("ring", "lesson", "lesson-no-entropy", "ring-langevin")
TABS = lesson.TABS


def decode(query):
    return links.decode(query, pairs=PAIRS, tabs=TABS)


# ---------------------------------------------------------------------------- round trips
def bounded(name):
    option = options.OPTION_BY_NAME[name]
    if option.kind is int:
        return st.integers(int(option.low), int(option.high))
    return st.floats(option.low, option.high, allow_nan=False, allow_infinity=False)


@st.composite
def configurations(draw):
    """Options as the page's controls make them: resolve(None, control values)."""
    dataset = draw(st.sampled_from([d for d in DATASET_NAMES if d != "points"]))
    given = {"dataset": dataset}
    if dataset == "ring":
        given |= {"modes": draw(bounded("modes")), "radius": draw(bounded("radius")), "std": draw(bounded("std"))}
    elif dataset == "grid":
        given |= {"modes": draw(st.sampled_from([1, 4, 9, 16, 25, 36, 49, 64])), "spacing": draw(bounded("spacing")),
                  "std": draw(bounded("std"))}
    for name in ("entropy_weight", "lr_energy", "lr_generator", "batch_size", "hidden", "latent_dim", "steps", "seed"):
        given[name] = draw(bounded(name))
    given["sampler"] = draw(st.sampled_from(options.OPTION_BY_NAME["sampler"].choices))
    given["entropy"] = draw(st.sampled_from(options.OPTION_BY_NAME["entropy"].choices))
    given["energy_hidden"] = draw(st.none() | bounded("energy_hidden"))
    return options.resolve(None, given)


def optional(strategy):
    return st.none() | strategy


shared_states = st.builds(
    links.Shared,
    options=optional(configurations()),
    view=optional(st.sampled_from(lesson.VIEWS)),
    layers=optional(st.sets(st.sampled_from(lesson.LAYERS))
                    .map(lambda s: tuple(layer for layer in lesson.LAYERS if layer in s))),
    pair=optional(st.sampled_from(PAIRS)),
    tab=optional(st.sampled_from(TABS)),
    lesson=optional(st.integers(0, len(lesson.STEPS))),
    classroom=optional(st.booleans()),
)


@given(shared_states)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decode_inverts_encode(state):
    assert decode(links.encode(state)) == (state, [])


@given(configurations())
@settings(max_examples=100, deadline=None)
def test_a_link_carries_every_control_that_applies(config):
    query = links.encode(links.Shared(options=config))
    keys = [key for key, _ in parse_qsl(query)]
    expected = [n for n in CONTROL_NAMES if config.get(n) is not None]
    assert keys == expected and "seed" in keys


def test_the_example_link_reads_as_written():
    state, problems = decode("dataset=grid&seed=3&landscape=log+density&entropy_weight=0&tab=gallery"
                             "&layers=data,arrows&pair=ring&lesson=2&classroom=1")
    assert problems == []
    assert state.options == options.resolve(None, {"dataset": "grid", "seed": 3, "entropy_weight": 0.0})
    assert (state.view, state.layers, state.pair, state.tab, state.lesson, state.classroom) == (
        "log density", ("data", "arrows"), "ring", "gallery", 2, True)
    assert links.summary(state).startswith("opened a link: lesson step 2; pair ring; grid, seed 3")


def test_an_empty_link_says_nothing():
    for query in ("", "?", "__theme=dark&view=api"):   # Gradio's own keys are not ours
        state, problems = decode(query)
        assert state.empty and problems == []


# ---------------------------------------------------------------------------- hostile links
@pytest.mark.parametrize("query, message", [
    ("seed=-1", "seed must be between"),
    ("seed=nan", "seed must be a number"),
    ("entropy_weight=inf", "entropy weight must be a number"),
    ("entropy_weight=1e999", "entropy weight must be a finite number"),
    ("batch_size=0x10", "batch size must be a number"),
    ("batch_size=1_000", "batch size must be a number"),
    ("steps=2.5", "steps must be a whole number"),
    ("seed=" + "9" * 5000, "too long"),
    ("lr_energy=5", "lr energy must be between"),
    ("dataset=<script>alert(1)</script>", "dataset must be one of"),
    ("dataset=grid&modes=10", "square number"),
    ("dataset=grid&radius=3", "radius does not apply to the grid dataset"),
    ("dataset=points", "cannot travel in a link"),
    ("landscape=heat", "landscape must be one of"),
    ("layers=data,bombs", "layers must be among"),
    ("pair=../../etc/passwd", "no pretrained pair is named"),
    ("tab=admin", "tab must be one of"),
    ("lesson=99", "lesson must be a whole number from 0"),
    ("lesson=-1", "lesson must be a whole number"),
    ("classroom=maybe", "classroom must be 1 or 0"),
    ("evil=1", "unknown setting 'evil'"),
    ("&".join(f"k{i}=1" for i in range(500)), "only the first 64 were read"),
])
def test_a_bad_value_is_dropped_with_a_message(query, message):
    state, problems = decode(query)
    assert any(message in p for p in problems), problems
    if state.options is not None:
        assert state.options == options.resolve(None, state.options)   # whatever is kept is valid


def test_the_good_values_of_a_partly_bad_link_are_kept():
    state, problems = decode("dataset=grid&seed=-4&entropy_weight=0.5&modes=10&landscape=density")
    assert len(problems) == 2
    assert state.options["dataset"] == "grid" and state.options["modes"] == 25   # the grid's own modes
    assert state.options["seed"] == 0 and state.options["entropy_weight"] == 0.5
    assert state.view == "density"


def test_a_points_pair_link_uses_the_pairs_own_points():
    state, problems = links.decode("dataset=points&hidden=16&pair=points", pairs=["points"])
    assert problems == [] and state.options is None and state.pair == "points"


@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=80)
       | st.text(max_size=400) | st.dictionaries(st.sampled_from(list(CONTROL_NAMES) + ["lesson", "tab", "layers"]),
                                                  st.text(max_size=30)))
@settings(max_examples=400, deadline=None)
@example({"dataset": "", "modes": "0\x1f"})   # found by this test: a separator str.strip drops and int() does not
def test_any_query_decodes_to_valid_settings_without_raising(query):
    state, problems = decode(query)
    assert isinstance(problems, list)
    if state.options is not None:
        assert state.options == options.resolve(None, state.options)
    assert state.view in (None, *lesson.VIEWS) and state.tab in (None, *TABS) and state.pair in (None, *PAIRS)
    assert state.lesson is None or 0 <= state.lesson <= len(lesson.STEPS)
    assert state.layers is None or set(state.layers) <= set(lesson.LAYERS)


# ---------------------------------------------------------------------------- the page
gradio_client = pytest.importorskip("gradio_client")
LINK = "dataset=grid&method=paper&seed=3&landscape=log+density&entropy_weight=0&steps=300"


@pytest.fixture
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def named(outputs) -> dict:
    from explorer.ui.tabs.lesson import SETUP_OUTPUTS
    hidden = {"session", "tabs", "lesson_step", "lesson_panel"}
    return dict(zip([n for n in SETUP_OUTPUTS if n not in hidden], outputs, strict=False))


def test_a_link_sets_the_controls_and_says_so(client):
    shown = named(client.predict(LINK, api_name="/open_link"))
    assert "opened a link: grid, seed 3, entropy batchnorm weight 0" in shown["status"]
    assert shown["method"]["value"] == "paper"   # and the paper's estimator with it
    assert "live run" in shown["status"] and "step 0 / 300" in shown["status"]   # a new run, waiting at step 0
    assert shown["dataset"]["value"] == "grid" and shown["seed"]["value"] == 3
    assert shown["entropy_weight"]["value"] == 0.0 and shown["modes"]["value"] == 25
    assert shown["radius"]["visible"] is False and shown["spacing"]["visible"] is True
    assert shown["view"]["value"] == "log density"
    assert json.loads(shown["landscape"])["data"][0]["colorbar"]["title"]["text"] == "log p(x)"


def test_a_hostile_link_shows_the_defaults_and_a_message_and_the_page_keeps_working(client):
    shown = named(client.predict("seed=-1&dataset=%3Cscript%3E&pair=..%2F..%2Fetc&lesson=1e9&x=" + "y" * 200,
                                 api_name="/open_link"))
    status = shown["status"]
    assert "the link had problems" in status and "<script>" not in status   # shown escaped, never as HTML
    assert "pretrained: ring" in status   # the default pair
    outputs = client.predict("ring", api_name="/choose_pretrained")
    assert "pretrained: ring" in outputs[3]


def trained_pair(app_url) -> tuple[bytes, dict]:
    """A fresh session opens LINK, trains it to the end, and downloads the pair."""
    client = gradio_client.Client(app_url, verbose=False)
    shown = named(client.predict(LINK, api_name="/open_link"))
    values = [shown[name]["value"] for name in CONTROL_NAMES]   # what the page's controls now hold
    job = client.submit(*values, api_name="/train")
    deadline = time.time() + 120
    while not job.done():
        assert time.time() < deadline, "training did not finish"
        time.sleep(0.1)
    assert "step 300 / 300" in job.outputs()[-1][3]
    archive = client.predict(api_name="/download_pair")[4]["value"]
    with zipfile.ZipFile(archive) as z:
        return z.read("model.safetensors"), json.loads(z.read("metrics.json"))["history"]


def test_the_same_link_trains_the_same_pair(app_url):
    """Training is deterministic from the seed: two fresh sessions, one link, identical weights and
    curves. (Live training records a few extra points where its chunks end, which depend on the
    machine's speed; every 10th step and every evaluation is recorded in both.)"""
    weights_a, history_a = trained_pair(app_url)
    weights_b, history_b = trained_pair(app_url)
    assert weights_a == weights_b
    assert set(history_a) == set(history_b) and "modes_covered" in history_a
    for name in history_a:
        a, b = dict(map(tuple, history_a[name])), dict(map(tuple, history_b[name]))
        common = set(a) & set(b)
        # every 10th step (the losses) or every evaluation (metrics, entropies): the same steps in both
        assert {s for s in a if s % 10 == 0} == {s for s in b if s % 10 == 0} != set(), name
        assert common and all(a[s] == b[s] or (math.isnan(a[s]) and math.isnan(b[s])) for s in common), name
