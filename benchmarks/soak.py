"""Soak (issue 7): one session trains and streams N frames through gradio_client against
`python app.py`; prints the app's resident memory after the first frame and every 1,000 frames.

    python -m benchmarks.soak [--frames 5000]

At about 4 frames a second, 5,000 frames take about 21 minutes. The run's planned steps are set
high enough that it never ends first; Pause/Train is pressed every 1,000 frames, as a user would.
"""
from __future__ import annotations

import argparse
import time

from benchmarks.app_live import free_port, start_app
from benchmarks.load import resident_mb

RING = ["ring", 8, 2.0, 2.0, 0.05, "generator", "batchnorm", 1.0, 1e-3, 1e-3, 256, 128, 0, 8, 1_000_000, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=5000)
    args = parser.parse_args()
    from gradio_client import Client

    port = free_port()
    app = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                client = Client(url, verbose=False)
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.3)
        frames, first_mb, started = 0, None, time.perf_counter()
        while frames < args.frames:
            job = client.submit(*RING, api_name="/train")
            seen = 0
            while frames < args.frames and seen < 1000:
                count = len(job.outputs())
                frames += count - seen
                seen = count
                if first_mb is None and frames:
                    first_mb = resident_mb(app.pid)
                    print(f"after the first frame: {first_mb:.0f} MB", flush=True)
                if job.done():
                    break
                time.sleep(0.1)
            client.predict(api_name="/pause")
            while not job.done():
                time.sleep(0.1)
            frames += len(job.outputs()) - seen
            print(f"{frames:,} frames, {time.perf_counter() - started:.0f} s: {resident_mb(app.pid):.0f} MB",
                  flush=True)
        end_mb = resident_mb(app.pid)
        print(f"resident memory: {first_mb:.0f} MB after the first frame, {end_mb:.0f} MB after {frames:,} frames: "
              f"{end_mb - first_mb:+.0f} MB (target < +50 MB)")
    finally:
        app.terminate()
        app.wait(10)


if __name__ == "__main__":
    main()
