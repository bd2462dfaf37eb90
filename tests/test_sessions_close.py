"""explorer/ui/sessions.py: a closed page's state is closed and forgotten, Gradio's record of it too,
and a stream knows when its page has stopped reading."""
import threading
from types import SimpleNamespace

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
