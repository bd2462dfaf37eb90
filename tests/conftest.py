"""Shared test setup: one torch thread, Hypothesis's files outside the repository, the app launched once.

One thread keeps the suite light on small machines and makes CPU results independent of how
many cores the machine has.
"""
import os
import sys
import tempfile

import pytest
import torch
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the tests' own live runs train on their threads, where a test can watch and patch them; the
# training processes have their own tests (test_training_processes.py), and the app launched
# below runs with its defaults (PROCESSES_SETTING is not passed on)
PROCESSES_SETTING = "ENERGYLAB_TRAINING_PROCESSES"
os.environ[PROCESSES_SETTING] = "0"

torch.set_num_threads(1)
# Hypothesis keeps its example database and caches outside the repository
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "energylab-hypothesis"))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test starts on one torch thread: the command line's --threads sets the process's count,
    and a seeded run trained on two threads sums in another order (other weights)."""
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def repo_root() -> str:
    """The repository root, where `python -m explorer.train` is run from."""
    return ROOT


def launch_app(repo_root: str, extra_env: dict | None = None):
    """`python app.py` on a free port, as a user starts it; returns (process, url)."""
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if k != PROCESSES_SETTING}, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "ENERGYLAB_NO_BROWSER": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(extra_env or {})}
    log = tempfile.NamedTemporaryFile(prefix="energylab-app-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=repo_root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return process, url
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise RuntimeError(f"app.py did not start; see {log.name}:\n" + open(log.name).read()[-2000:]) from None
            time.sleep(0.3)


def stop_app(process) -> None:
    import subprocess
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def app_url(repo_root):
    """`python app.py` launched once for the app and browser tests, as a user starts it."""
    process, url = launch_app(repo_root)
    yield url
    stop_app(process)


# ---------------------------------------------------------------------------- the page in a real browser
# Playwright driving Debian's chromium (apt-get install chromium; .ci/run installs it); set
# ENERGYLAB_CHROMIUM to use another binary.
CHROMIUM = os.environ.get("ENERGYLAB_CHROMIUM", "/usr/bin/chromium")

# The page draws the default pair's first view from its own config before its load event has
# answered (explorer/ui/server.py, serve_first_view); a test that acts on the page waits for that
# answer, which sets the status line and the controls, so that it does not overwrite what the test did.
OPENED_JS = "() => { const s = document.querySelector('#status'); return s && !s.innerText.includes('Loading'); }"


def wait_until_opened(page, timeout: float = 60_000) -> None:
    page.wait_for_function(OPENED_JS, timeout=timeout)


def wait_for(condition, timeout=60.0, what="condition"):
    import time
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def browser():
    """Chromium, once per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install -y chromium (or set ENERGYLAB_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, app_url):
    """A fresh page (a fresh browser session) at the app's address plus a query string, once it
    shows a landscape and its load event has answered."""
    pages = []

    def opener(query: str = ""):
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(60_000)   # generous: a loaded 2-core machine runs app, training and browser
        page.goto(app_url + (f"?{query}" if query else ""))
        page.wait_for_selector("#landscape .main-svg", timeout=60_000)
        wait_until_opened(page)
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


@pytest.fixture
def page(open_page):
    """The app's page at its plain address."""
    return open_page()
