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

torch.set_num_threads(1)
# Hypothesis keeps its example database and caches outside the repository
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "energylab-hypothesis"))


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
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
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


# The page draws the default pair's first view from its own config before its load event has
# answered (app.serve_first_view); a test that acts on the page waits for that answer, which sets
# the status line and the controls, so that it does not overwrite what the test did.
OPENED_JS = "() => { const s = document.querySelector('#status'); return s && !s.innerText.includes('Loading'); }"


def wait_until_opened(page, timeout: float = 60_000) -> None:
    page.wait_for_function(OPENED_JS, timeout=timeout)
