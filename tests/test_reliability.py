"""Reliability: a bound on concurrent training with a clear "busy" message, a closed tab that stops
its training at once (not an hour later, when Gradio drops its state), and a diverging run that
pauses, keeps its last good state and says so in the page."""
import os
import time

import pytest
from conftest import launch_app, stop_app

from explorer.errors import UserInputError
from explorer.training.capacity import TrainingSlots

CHROMIUM = os.environ.get("ENERGYLAB_CHROMIUM", "/usr/bin/chromium")
RING = ["ring", 8, 2.0, 2.0, 0.05, "generator", "batchnorm", 1.0, 1e-3, 1e-3, 256, 128, 0, 8, 1_000_000, 0]


def test_slots_refuse_beyond_the_bound_and_free_on_give_back():
    slots = TrainingSlots(2)
    a, b, c = object(), object(), object()
    slots.take(a)
    slots.take(a)            # the same holder twice holds one slot
    slots.take(b)
    with pytest.raises(UserInputError, match="busy: 2 runs"):
        slots.take(c)
    slots.give_back(a)
    slots.take(c)
    assert slots.in_use == 2


@pytest.fixture(scope="module")
def one_slot_app(repo_root):
    process, url = launch_app(repo_root, {"ENERGYLAB_MAX_TRAINING": "1"})
    yield url
    stop_app(process)


def test_a_second_run_is_told_busy_and_a_closed_tab_frees_its_slot(one_slot_app):
    sync_api = pytest.importorskip("playwright.sync_api")
    from gradio_client import Client
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(one_slot_app)
        page.wait_for_selector("#landscape .main-svg")
        steps = page.get_by_label("steps", exact=True).first
        steps.fill("1000000")
        steps.press("Tab")
        page.click("#train")
        page.wait_for_function("document.querySelector('#status').innerText.includes('training')")

        other = Client(one_slot_app, verbose=False)
        job = other.submit(*RING, api_name="/train")
        while not job.done():
            time.sleep(0.1)
        assert "busy: 1 runs are training" in job.outputs()[-1][3]

        page.close()   # the tab goes: its training must stop, freeing the slot
        deadline, status = time.time() + 60, ""
        while time.time() < deadline:
            job = other.submit(*RING, api_name="/train")
            while len(job.outputs()) < 2 and not job.done():   # the new run's first frame, then training
                time.sleep(0.1)
            status = job.outputs()[-1][3]
            if "busy" not in status:
                break
            time.sleep(1.0)
        assert "busy" not in status and "training" in status, status
        other.predict(api_name="/stop")
        browser.close()


def test_a_diverging_run_pauses_keeps_its_last_good_state_and_says_what_to_try(app_url):
    """Learning rates of 1 with Langevin chains blow up within a few steps (test_models checks
    the Run; this checks what the page shows)."""
    from gradio_client import Client
    client = Client(app_url, verbose=False)
    values = list(RING)
    values[5], values[8], values[9], values[14] = "langevin", 1.0, 1.0, 2000   # sampler, both lrs, steps
    job = client.submit(*values, api_name="/train")
    deadline = time.time() + 60
    while not job.done():
        assert time.time() < deadline
        time.sleep(0.1)
    status = job.outputs()[-1][3]
    assert "diverged" in status and "paused" in status and "lower learning rates" in status, status
    # the session keeps working: a sane run trains after it
    values[8] = values[9] = 1e-3
    outputs = client.predict(10, *values, api_name="/step_both")
    assert "stepped 10" in outputs[3] and "⚠️" not in outputs[3]
