"""The server: `python app.py` launches the page, warms it up and serves the first view.

GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by Gradio's launch() itself; ENERGYLAB_NO_BROWSER
(or a Hugging Face Space, SPACE_ID) keeps a browser from being opened; ENERGYLAB_THREADS sets the
torch threads per training; ENERGYLAB_MALLOC_ARENAS caps the C library's heaps. The runs' places
and turns are explorer/training/turns.py's settings, the training processes
explorer/training/processes.py's, an abandoned run's limit explorer/training/live.py's.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading

import gradio as gr
from starlette.middleware import Middleware

from explorer.command_line import set_threads
from explorer.figures import frame as figures
from explorer.page.state import PageState
from explorer.training.capacity import NewPagesFirst
from explorer.training.memory import limit_heaps
from explorer.training.processes import PROCESSES
from explorer.ui import static
from explorer.ui.layout import build_page
from explorer.ui.page import Page
from explorer.ui.plot_view import FIRST_VIEW_MARK, FIRST_VIEWS, PLOTLY_HEAD
from explorer.ui.tabs.lesson import open_link
from explorer.ui.tabs.train import MAX_UPLOAD_BYTES

log = logging.getLogger("energylab")

# Gradio's worker threads (its default is 40): a streaming page holds one between its frames, and
# a classroom's thirty streams must leave plenty for new visitors' pages (docs/security.md)
MAX_THREADS = 200
# What the kernel holds of a page's stream that the page has not read. Linux lets a connection's
# buffer grow to 4 MB (net.ipv4.tcp_wmem), about a hundred live frames, before a page that stopped
# reading is seen (explorer/ui/sessions.py) and its run ends; fixed here, a few frames. A
# connection moves at most its buffer (the kernel doubles this: 512 KB) each round trip: 5 MB/s to
# a browser 100 ms away, 25 times what a page's frames need (a Space's proxy is nearer still).
SEND_BUFFER_BYTES = 256 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description="EnergyLab: the explorer in your browser")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("ENERGYLAB_THREADS", "1")),
                        help="torch CPU threads per training (default 1)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    limit_heaps()   # before the server's and the runs' threads start (explorer/training/memory.py)
    set_threads(args.threads)
    # torch releases the GIL in every op; a short switch interval hands it back to the training
    # thread sooner when a request handler holds it (the default 5 ms slowed live training: docs/speed.md)
    sys.setswitchinterval(0.001)
    if PROCESSES is not None:   # the training processes import torch while the page is built
        threading.Thread(target=PROCESSES.start, name="energylab-processes", daemon=True).start()
    page = build_page()
    page.blocks.queue(default_concurrency_limit=None).launch(
        share=args.share, inbrowser=not (os.environ.get("SPACE_ID") or os.environ.get("ENERGYLAB_NO_BROWSER")),
        theme=gr.themes.Soft(), css=static.text("page.css"), show_error=False,
        head=PLOTLY_HEAD + static.text("train_clicks.html"),   # the clicks' times: explorer/page/train_clicks.py
        max_file_size=MAX_UPLOAD_BYTES, max_threads=MAX_THREADS,
        prevent_thread_lock=True,
        app_kwargs={"middleware": [Middleware(NewPagesFirst)]})   # a new visitor's page before other runs' chunks
    limit_send_buffers(page.blocks)
    warm_up(page)
    page.blocks.block_thread()


def limit_send_buffers(blocks: gr.Blocks) -> int:
    """Fix the send buffer of the server's listening sockets at SEND_BUFFER_BYTES: each connection
    accepted from now on starts as a copy of its listener, this included (Linux). Returns how many
    sockets it set (0 where Gradio's server does not show them: this reads uvicorn's `servers`)."""
    count = 0
    for listener in getattr(getattr(blocks, "server", None), "servers", None) or []:
        for sock in getattr(listener, "sockets", ()):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
                count += 1
            except OSError:
                pass
    if not count:
        log.warning("could not bound the connections' send buffers: a page that stops reading is seen later")
    return count


def warm_up(page: Page) -> None:
    """Open the default pair once in a throwaway page while the first browser is still loading
    the page's scripts: the first visitor then finds plotly's subplot layout, torch's kernels and
    the file cache warm (cold, their first page load was slower: docs/speed.md); and
    its figures become the first view of every page served after (FIRST_VIEW_MARK)."""
    state = PageState()
    try:
        updates = open_link(page, state, [])
        first = {"landscape": updates.get(page.landscape.landscape), "curves": updates.get(page.landscape.curves),
                 "histogram": updates.get(page.landscape.histogram)}
        frame, _ = state.live.latest()
        if frame is not None and frame.landscape is not None:
            # the heatmap alone, as while training: a cold browser draws it in about half the time of
            # the contours, which the load event brings next (the same figure drawn in full)
            first["landscape"] = figures.landscape_figure(frame, **state.view, contours=False).to_json()
        state.close()
        serve_first_view(page.blocks, first)
    except Exception:  # noqa: BLE001 - a warm-up must never stop the app; the visitor's own call reports
        log.exception("warm-up failed")


def serve_first_view(blocks: gr.Blocks, figures_json: dict) -> None:
    """Put the default pair's figures in the page config that every later page is served with
    (the config Gradio made at launch, a dict it copies per page); marked, see FIRST_VIEW_MARK."""
    components = {c.get("props", {}).get("elem_id"): c for c in blocks.config["components"]}
    for name in FIRST_VIEWS:
        if isinstance(figures_json.get(name), str) and name in components:
            components[name]["props"]["value"] = FIRST_VIEW_MARK + figures_json[name]
