"""Latency of what the app does, on the pretrained ring pair: a 200 x 200 landscape (energy, log Z,
figure), a gallery, an interpolation; the bytes of a live frame as they leave `python app.py`; and
the cold start from `python app.py` to its first page and first landscape.

In process, through the code the app's handlers call (explorer/measures/probes.py, explorer/figures/frame.py, views.py);
against a real `python app.py` through Gradio's own queue protocol, as the page speaks it (the
page's load event, and the Train button's stream of frames), so the bytes are those on the wire.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from benchmarks import flops
from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.figures.frame import curves_figure, histogram_figure, landscape_figure
from explorer.measures import metrics, probes
from explorer.measures.evaluation import energy_fn
from explorer.page import controls, views
from explorer.pairs import catalogue
from explorer.training.live import LiveSession

HEAVY_LIBRARIES = ("gradio", "torch", "plotly", "numpy", "scipy", "pandas", "sklearn", "fastapi", "httpx", "matplotlib")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANDSCAPE_RESOLUTION = 200


def _seconds(fn, clock, repeats=5, inner=1) -> float:
    """Best wall-clock seconds: what a user waits. Not this thread's CPU time, which would miss the
    work large energy grids hand to the other cores (explorer/measures/evaluation.py `energy_fn`)."""
    return flops.best_time(fn, clock, repeats, inner)["wall"]


def in_process(device: str, pair: str = "ring", repeats: int = 5) -> dict:
    """Landscape, gallery and interpolation of a pretrained pair, and the live frame's parts."""
    clock = flops.Clock(device)
    session = LiveSession(device=device)
    found = catalogue.find(pair)
    session.load(str(found.folder), pair, catalogue.points_path(found.folder))
    run = session.run
    energies, bounds, r = energy_fn(run.energy), run.dataset.bounds, LANDSCAPE_RESOLUTION
    inner, pad = metrics.ring_layout(r)
    result = {"pair": pair, "resolution": r, "ring_cells": (inner + 2 * pad) ** 2 - inner ** 2}
    # the landscape: E on the R x R grid (the picture), then log Z (box + the ring around it)
    result["landscape_energy_seconds"] = _seconds(lambda: metrics.grid_log_partition(energies, bounds, r, 1.0),
                                                  clock, repeats)
    result["landscape_seconds"] = _seconds(lambda: probes.landscape(run.energy, bounds, r), clock, repeats)
    result["landscape_log_z_seconds"] = result["landscape_seconds"] - result["landscape_energy_seconds"]
    land = probes.landscape(run.energy, bounds, r)
    frame = dataclasses.replace(run.frame(fine=True, arrows=False, latent=False), landscape=land)
    result["landscape_figure_seconds"] = _seconds(lambda: landscape_figure(frame).to_json(), clock, repeats)
    result["landscape_figure_bytes"] = len(landscape_figure(frame).to_json().encode())
    result["landscape_total_seconds"] = result["landscape_seconds"] + result["landscape_figure_seconds"]
    state = views.ViewState()
    result["gallery_seconds"] = _seconds(lambda: views.gallery(session, state, 64, 0, True).to_json(), clock, repeats)
    result["interpolation_seconds"] = _seconds(
        lambda: views.interpolation(session, state, "gallery", 0, 1, 0, 24, "spherical").to_json(), clock, repeats)
    # a frame while training (coarse grid, no contours) and a still one (fine grid, contours),
    # as the page serialises them (explorer/page/frame_view.py): landscape, curves and histogram figures as JSON text
    for name, fine in (("training", False), ("still", True)):
        shot = run.frame(fine=fine)
        parts = {"landscape": landscape_figure(shot, contours=fine).to_json(),
                 "curves": curves_figure(shot.history, shot.total_steps).to_json(),
                 "histogram": histogram_figure(shot).to_json()}
        result[f"frame_{name}_parts_bytes"] = {k: len(v.encode()) for k, v in parts.items()}
        result[f"frame_{name}_make_seconds"] = _seconds(lambda fine=fine: run.frame(fine=fine), clock, min(repeats, 3))
    session.close()
    return result


# ------------------------------------------------------------------------------ against python app.py
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GradioQueue:
    """Gradio's queue protocol (sse_v3), as the page speaks it: join, then read the event stream."""

    def __init__(self, url: str):
        import httpx
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=60)
        self.config = self.http.get(self.url + "/config").json()
        self.session_hash = uuid.uuid4().hex[:11]

    def dependency(self, api_name: str | None = None, trigger: str | None = None) -> dict:
        for dep in self.config["dependencies"]:
            if api_name is not None and dep.get("api_name") == api_name:
                return dep
            if trigger is not None and any(t[1] == trigger for t in dep.get("targets", [])) and dep.get("backend_fn"):
                return dep
        raise KeyError(api_name or trigger)

    def stream(self, dep: dict, data: list, seconds: float | None = None):
        """Yield (seconds since join, bytes of the SSE line, message) until the event completes
        or `seconds` have passed."""
        started = time.perf_counter()
        joined = self.http.post(self.url + "/gradio_api/queue/join",
                                json={"data": data, "event_data": None, "fn_index": dep["id"],
                                      "trigger_id": None, "session_hash": self.session_hash})
        joined.raise_for_status()
        with self.http.stream("GET", self.url + "/gradio_api/queue/data",
                              params={"session_hash": self.session_hash}) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                yield time.perf_counter() - started, len(line.encode()), message
                if message.get("msg") == "process_completed":
                    return
                if seconds is not None and time.perf_counter() - started > seconds:
                    return

    def close(self):
        self.http.close()


def app_controls(preset: str = "ring") -> list:
    values = controls.controls_from_options(resolve(preset_options(preset), {}))
    return [values[name] for name in controls.CONTROL_NAMES]


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (user + system; Linux's /proc), robust to other load."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def cold_start(frame_seconds: float = 5.0, timeout: float = 120.0) -> dict:
    """`python app.py` on a free port: seconds to HTTP 200 on /, to the first landscape (the
    page's load event, which shows the pretrained ring pair), then the frames Train streams."""
    import httpx
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "ENERGYLAB_NO_BROWSER": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = tempfile.NamedTemporaryFile(prefix="energylab-bench-app-", suffix=".log", delete=False)
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    result: dict = {}
    try:
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.perf_counter() - started > timeout:
                raise RuntimeError(f"app.py did not start; see {log.name}")
            time.sleep(0.05)
        result["http_seconds"] = time.perf_counter() - started
        result["http_cpu_seconds"] = _cpu_seconds(process.pid)
        queue = GradioQueue(url)
        landscape = None
        for _, _, message in queue.stream(queue.dependency(trigger="load"), [None]):
            if message.get("msg") == "process_completed":
                landscape = message["output"]["data"][0]
        result["first_landscape_seconds"] = time.perf_counter() - started
        result["first_landscape_cpu_seconds"] = _cpu_seconds(process.pid)
        result["first_landscape_ok"] = isinstance(landscape, str) and '"data"' in landscape
        result.update(live_frames(queue, frame_seconds))
        queue.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    return result


def live_frames(queue: GradioQueue, seconds: float) -> dict:
    """Press Train (ring preset) and weigh each streamed frame's SSE message, in bytes."""
    sizes, times = [], []
    for at, size, message in queue.stream(queue.dependency(api_name="train"), [None] + app_controls(), seconds):
        if message.get("msg") == "process_generating":
            sizes.append(size)
            times.append(at)
    for _ in queue.stream(queue.dependency(api_name="pause"), [None], 10):   # Pause: the run stops
        pass
    if len(sizes) < 2:
        return {"frames": len(sizes)}
    streamed = sorted(sizes[1:])   # the first is the new run's still frame (fine grid, contours)
    return {"frames": len(sizes), "frames_per_second": (len(sizes) - 1) / (times[-1] - times[0]),
            "frame_first_bytes": sizes[0], "frame_median_bytes": streamed[len(streamed) // 2],
            "frame_max_bytes": streamed[-1], "bytes_per_second": sum(sizes[1:]) / (times[-1] - times[0])}


def import_profile(top: int = 6) -> dict:
    """`python -X importtime -c 'import app'` and build_app() in a fresh process: what start-up costs."""
    code = ("import time, json; t, c = time.perf_counter(), time.process_time(); import app; "
            "t1, c1 = time.perf_counter(), time.process_time(); app.build_app(); t2 = time.perf_counter(); "
            "print(json.dumps([t1 - t, t2 - t1, c1 - c]))")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    import_seconds, build_seconds, import_cpu = json.loads(done.stdout.strip().splitlines()[-1])
    packages = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if match and len(match.group(3)) == 3:   # imported by app.py itself (deeper ones are indented more)
            name = match.group(4).split(".")[0]
            packages[name] = packages.get(name, 0) + int(match.group(2)) / 1e6
    ranked = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    # the big libraries, wherever they are first imported (their cumulative time, nested in the above)
    libraries = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(\S+)$", line)
        if match and match.group(3) in HEAVY_LIBRARIES and match.group(3) not in libraries:
            libraries[match.group(3)] = round(int(match.group(2)) / 1e6, 3)
    return {"import_app_seconds": import_seconds, "import_app_cpu_seconds": import_cpu,
            "build_app_seconds": build_seconds, "top_imports": [[name, round(seconds, 3)] for name, seconds in ranked],
            "libraries": libraries}
