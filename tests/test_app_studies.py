"""The Studies tab through gradio_client against `python app.py` (conftest.app_url), as tests/test_app.py:
a shipped study's dots and table, and a small study of the page's settings streamed run by run."""
import json

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402
from test_app import controls, wait  # noqa: E402

MEAN = "mean, 95 % interval"


@pytest.fixture
def client(app_url):
    return Client(app_url, verbose=False)


def dots(figure_json) -> int:
    return sum(len(t["y"]) for t in json.loads(figure_json)["data"] if t["name"] != MEAN)


def test_a_shipped_study_shows_its_dots_table_and_command(client):
    about, figure, table, metric = client.predict("smoke", "reverse_kl", api_name="/study")
    assert dots(figure) == 8 and metric["value"] == "reverse_kl"
    assert "| grid | no-entropy | 2 |" in table and "python -m explorer.study smoke" in about


def test_an_unknown_study_is_refused_and_the_session_keeps_working(client):
    with pytest.raises(AppError, match="not in the list of choices"):   # Gradio's own check of a dropdown
        client.predict("../../etc", "nll", api_name="/study")
    assert "| ring | batchnorm | 2 |" in client.predict("smoke", "nll", api_name="/study")[2]


def test_a_small_study_streams_each_run_and_ends_finished(client):
    tiny = controls(steps=20, batch_size=32, hidden=8, latent_dim=2, modes=4)
    frames = wait(client.submit(2, *tiny, api_name="/study_start"), timeout=120)
    statuses = [f[0] for f in frames]
    assert statuses[-1].startswith("**finished** · 4 of 4 runs done")
    counts = [dots(f[1]) for f in frames if isinstance(f[1], str) and f[1]]
    assert counts[-1] == 4 and counts == sorted(counts) and len(set(counts)) >= 3   # dots as runs finish
    assert "| these settings | entropy weight 0 | 2 |" in frames[-1][2]


def test_bad_seeds_are_a_message(client):
    frames = wait(client.submit(9, *controls(), api_name="/study_start"))
    assert "⚠️ seeds must be between 1 and 5" in frames[-1][0]
