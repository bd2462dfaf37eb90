"""explorer/ui/sessions.py: a closed page's state is closed and forgotten, Gradio's record of it too,
and a stream knows when its page has stopped reading."""
import socket
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from gradio.context import LocalContext
from gradio.state_holder import StateHolder

from explorer.page.state import PageState
from explorer.ui import sessions


def test_a_closed_page_is_closed_and_forgotten_with_gradios_record_of_it():
    holder = StateHolder()
    holder.session_data["page"] = object()
    holder.time_last_used["page"] = 0
    state = PageState(device="cpu")
    sessions.OPEN_PAGES["page"] = state
    sessions.OPEN_PAGES["its api client"] = state      # the same page kept twice: both go
    token = LocalContext.blocks.set(SimpleNamespace(state_holder=holder))
    try:
        sessions.close_page(SimpleNamespace(session_hash="page"))
    finally:
        LocalContext.blocks.reset(token)
    assert "page" not in holder.session_data and "page" not in holder.time_last_used
    assert state not in sessions.OPEN_PAGES.values() and state.live.run is None


def test_outside_gradio_nothing_is_unread_and_nothing_breaks():
    assert sessions.unread() == 0 and sessions.still_reading()
    sessions.forget_session("nobody")   # no Gradio here: nothing to forget
    sessions.remember_this_page(PageState(device="cpu"))   # no request: not kept
    assert "" not in sessions.OPEN_PAGES


def test_a_page_that_leaves_its_messages_unread_is_behind():
    queue = SimpleNamespace(qsize=lambda: sessions.MAX_UNREAD + 1)
    blocks = SimpleNamespace(_queue=SimpleNamespace(pending_messages_per_session={"page": queue}))
    seen = {}

    def handler():   # Gradio sets these for the handler's thread
        LocalContext.blocks.set(blocks)
        LocalContext.request.set(SimpleNamespace(session_hash="page"))
        seen["reading"] = sessions.still_reading()

    thread = threading.Thread(target=handler)
    thread.start()
    thread.join()
    assert seen["reading"] is False


def unread_bytes_before_writes_block(listener: socket.socket) -> int:
    """Connect a client that reads nothing to `listener` and write to it until the kernel holds no more."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(listener.getsockname())
    accepted, _ = listener.accept()
    accepted.setblocking(False)
    sent = 0
    for _ in range(3):   # a moment for the kernel to grow the buffer, where it may
        try:
            while True:
                sent += accepted.send(b"x" * 65536)
        except BlockingIOError:
            time.sleep(0.2)
    client.close()
    accepted.close()
    return sent


@pytest.mark.skipif(sys.platform != "linux", reason="connections inherit their listener's buffer on Linux")
def test_a_page_that_stops_reading_fills_its_connection_after_a_bounded_amount():
    from explorer.ui.server import SEND_BUFFER_BYTES, limit_send_buffers
    with socket.socket() as plain, socket.socket() as bounded:
        for listener in (plain, bounded):
            listener.bind(("127.0.0.1", 0))
            listener.listen()
        server = SimpleNamespace(servers=[SimpleNamespace(sockets=[bounded])])   # as uvicorn shows it
        assert limit_send_buffers(SimpleNamespace(server=server)) == 1
        unbounded_bytes = unread_bytes_before_writes_block(plain)
        bounded_bytes = unread_bytes_before_writes_block(bounded)
    # the kernel doubles the value asked (its own bookkeeping) and the client's window adds a little
    assert bounded_bytes <= 2 * SEND_BUFFER_BYTES + 128 * 1024
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        kernel_most = int(f.read().split()[2])   # how far Linux lets a buffer grow (4 MB by default)
    if kernel_most > 4 * SEND_BUFFER_BYTES:
        assert unbounded_bytes > 2 * SEND_BUFFER_BYTES + 128 * 1024
    assert limit_send_buffers(SimpleNamespace(server=None)) == 0   # no server to be seen: nothing set, no error
