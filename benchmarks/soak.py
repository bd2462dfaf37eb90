"""Soak (issues 7 and 20) against `python app.py`, two ways:

    python -m benchmarks.soak [--frames 5000] [--method energylab|paper]
    python -m benchmarks.soak --arrivals 30 [--every 2] [--stay 10 40] [--seed 0] [--ways stop close vanish stall]

One session: once the app's launch is done, it trains the page's ring as the page opens (its
default method, or the paper's) and streams N frames through gradio_client; prints the app's
resident memory after the first frame and every 1,000 frames. At about 3 frames a second, 5,000
frames take about 30 minutes. The run's planned steps are set high enough that it never ends
first; Pause/Train is pressed every 1,000 frames, as a user would.

Arrivals: sessions arrive one every `--every` seconds, each trains for a random stay (seconds,
from `--stay`), then leaves, in turn in one of four ways: it presses Stop and closes its client;
it closes its client without Stop (a closed tab); its process is killed (a lost connection); or
it is a client that keeps its connection open but stops reading its stream (from its first bytes:
its stay does not matter; `--ways` picks fewer). Prints the app's
resident memory every 10 s, the frames the sessions received, how long each closed client's
stream took to end, and, once the last has left, how long until the app's memory is back within
50 MB of the start and its training idle.
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from benchmarks.app_live import ROOT, free_port, start_app
from benchmarks.load import after_leaving, controls, cpu_share, parts_mb, resident_mb, settled


def train_values(method: str) -> list:
    """Train's inputs as the page opens (its ring, the defaults), with `method` ("energylab": the
    page's own; "paper": the paper's batch-norm entropy) and planned steps it never reaches."""
    from explorer.config.options import resolve
    from explorer.page import controls
    preset = {"dataset": "ring"} if method == "energylab" else \
        {"dataset": "ring", "method": "paper", "entropy": "batchnorm"}
    values = {**controls.controls_from_options(resolve(None, preset)), "steps": 1_000_000, "seed": 0}
    return [values[name] for name in controls.CONTROL_NAMES]

WAYS = ("stop", "close", "vanish", "stall")

# a client in a process of its own, to be killed: it says when its stream has begun
VANISHING = """
import sys, time
from gradio_client import Client
job = Client(sys.argv[1], verbose=False).submit(*{values}, api_name="/train")
while not job.outputs():
    time.sleep(0.1)
print("streaming", flush=True)
time.sleep(3600)
"""


def connect(url: str):
    from gradio_client import Client
    while True:
        try:
            return Client(url, verbose=False)
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)


def resident_parts(pid: int) -> str:
    """Resident memory's parts (MB): anonymous (the heap: Python objects, arrays, tensors) and file-
    backed (the libraries' pages, read in as code first runs), so growth can be told apart."""
    parts = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                name, value = line.split()[:2]
                parts[name.rstrip(":")] = int(value) / 1024
    return f"anonymous {parts.get('RssAnon', float('nan')):.0f}, files {parts.get('RssFile', float('nan')):.0f}"


def one_session(url: str, app, frames_wanted: int, values: list) -> None:
    client = connect(url)
    print(f"the app's launch done {settled(app.pid):.0f} s after it answered", flush=True)
    frames, first_mb, started = 0, None, time.perf_counter()
    while frames < frames_wanted:
        job = client.submit(*values, api_name="/train")
        seen = 0
        while frames < frames_wanted and seen < 1000:
            count = len(job.outputs())
            frames += count - seen
            seen = count
            if first_mb is None and frames:
                first_mb = resident_mb(app.pid)
                print(f"after the first frame: {first_mb:.0f} MB ({parts_mb(app.pid)}; the app's "
                      f"{resident_parts(app.pid)})", flush=True)
            if job.done():
                break
            time.sleep(0.1)
        client.predict(api_name="/pause")
        while not job.done():
            time.sleep(0.1)
        frames += len(job.outputs()) - seen
        print(f"{frames:,} frames, {time.perf_counter() - started:.0f} s: {resident_mb(app.pid):.0f} MB "
              f"({parts_mb(app.pid)}; the app's {resident_parts(app.pid)})", flush=True)
    end_mb = resident_mb(app.pid)
    print(f"resident memory: {first_mb:.0f} MB after the first frame, {end_mb:.0f} MB after {frames:,} frames: "
          f"{end_mb - first_mb:+.0f} MB (target < +30 MB)")


def stalled_client(url: str, values: list) -> socket.socket:
    """Join Train's queue and open its stream as a browser does, then never read it: the socket,
    to be closed at the end."""
    config = json.load(urllib.request.urlopen(url + "config"))
    index, dependency = next((i, d) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "train")
    session = f"stall{random.getrandbits(40):x}"
    body = json.dumps({"data": [None, *values], "event_data": None, "fn_index": dependency.get("id", index),
                       "trigger_id": None, "session_hash": session}).encode()
    urllib.request.urlopen(urllib.request.Request(url + "gradio_api/queue/join", data=body,
                                                  headers={"Content-Type": "application/json"}))
    host, port = url.split("//")[1].strip("/").split(":")
    stream = socket.socket()
    stream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stream.connect((host, int(port)))
    stream.sendall(f"GET /gradio_api/queue/data?session_hash={session} HTTP/1.1\r\nHost: {host}\r\n"
                   "Accept: text/event-stream\r\n\r\n".encode())
    stream.recv(512)   # its first bytes, and then nothing more
    return stream


def arrivals(url: str, app, count: int, every: float, stay: tuple[float, float], seed: int,
             ways: tuple[str, ...] = WAYS) -> None:
    rng = random.Random(seed)
    settled(app.pid)   # the app's launch done (its warm-up, its training processes')
    start_mb, idle_share = resident_mb(app.pid), cpu_share(app.pid)
    print(f"app resident memory at the start: {start_mb:.0f} MB", flush=True)
    frames, stream_ends, leftovers, lock = [0], [], [], threading.Lock()

    def visit(index: int, way: str, seconds: float) -> None:
        values = controls(index)
        if way == "vanish":
            process = subprocess.Popen([sys.executable, "-c", VANISHING.format(values=values), url], cwd=ROOT,
                                       stdout=subprocess.PIPE, text=True)
            process.stdout.readline()
            time.sleep(seconds)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            return
        if way == "stall":
            stream = stalled_client(url, values)
            time.sleep(seconds)
            with lock:
                leftovers.append(stream)   # kept open, unread, to the end
            return
        client = connect(url)
        job = client.submit(*values, api_name="/train")
        time.sleep(seconds)
        if way == "stop":
            client.predict(api_name="/stop")
        left = time.perf_counter()
        client.close()
        while not job.done() and time.perf_counter() - left < 120:
            time.sleep(0.2)
        with lock:
            frames[0] += sum(isinstance(frame[0], str) for frame in job.outputs())
            if way == "close":
                stream_ends.append(time.perf_counter() - left)

    threads, peak = [], start_mb
    began = time.perf_counter()
    for index in range(count):
        way = ways[index % len(ways)]
        thread = threading.Thread(target=visit, args=(index, way, rng.uniform(*stay)))
        thread.start()
        threads.append(thread)
        time.sleep(every)
        peak = max(peak, resident_mb(app.pid))
        if index % max(1, round(10 / every)) == 0:
            print(f"{time.perf_counter() - began:.0f} s: {index + 1} sessions arrived, {resident_mb(app.pid):.0f} MB",
                  flush=True)
    while any(thread.is_alive() for thread in threads):
        time.sleep(1.0)
        peak = max(peak, resident_mb(app.pid))
    print(f"the last left {time.perf_counter() - began:.0f} s after the first arrived; peak {peak:.0f} MB; "
          f"{frames[0]:,} frames reached the clients that read theirs")
    if stream_ends:
        print(f"a client closed without Stop: its stream (and run) ended {max(stream_ends):.0f} s after at worst, "
              f"median {sorted(stream_ends)[len(stream_ends) // 2]:.0f} s ({len(stream_ends)} sessions)")
    back, idle, end_mb = after_leaving(app.pid, start_mb, idle_share, limit=180.0)
    print("after the last left: memory "
          + (f"within 50 MB of the start in {back:.0f} s" if back is not None else "not back within 180 s")
          + (f", training idle in {idle:.0f} s" if idle is not None else ", still training after 180 s")
          + f" (killed clients' and stalled clients' runs included); {end_mb:.0f} MB at the end, "
            f"{end_mb - start_mb:+.0f} MB")
    for stream in leftovers:
        stream.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--method", choices=("energylab", "paper"), default="energylab",
                        help="what the one session trains: the page's ring with its default method, or the paper's")
    parser.add_argument("--arrivals", type=int, help="sessions arriving and leaving, instead of one streaming")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between arrivals")
    parser.add_argument("--stay", type=float, nargs=2, default=(10.0, 40.0), help="shortest and longest stay, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ways", nargs="+", choices=WAYS, default=list(WAYS),
                        help="how the arriving sessions leave, in turn (stall: stops reading at once)")
    args = parser.parse_args()
    port = free_port()
    app = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        connect(url).close()
        if args.arrivals:
            arrivals(url, app, args.arrivals, args.every, tuple(args.stay), args.seed, tuple(args.ways))
        else:
            one_session(url, app, args.frames, train_values(args.method))
    finally:
        app.terminate()
        app.wait(10)


if __name__ == "__main__":
    main()
