"""The pages open on this server, each with its PageState (explorer/page/state.py), and whether a
page still reads what its stream sends.

A page's state lives in its gr.State, made by the first event that needs it. Open pages are also
kept here by Gradio's session hash, so that closing a tab stops its training at once (Gradio
itself deletes a closed page's gr.State only an hour later). A page is kept from its load event,
and an API client's from its first Train: its heartbeat ending (the client closed, or its process
died) closes it as a closed tab is.
"""
from __future__ import annotations

import gradio as gr
from gradio.context import LocalContext

from explorer.page.state import PageState

OPEN_PAGES: dict[str, PageState] = {}

# A stream's messages wait in Gradio's queue until the page's connection takes them: more than
# this many means the page has stopped reading (a laptop shut, a stalled client), and its stream
# sends nothing more until it catches up (its run then ends: explorer/training/live.py).
MAX_UNREAD = 8


def ensure(state) -> PageState:
    """The page's PageState, made on its first event."""
    return state if isinstance(state, PageState) else PageState()


def remember(state: PageState, request: gr.Request | None) -> None:
    """Keep the page's state by its session hash (the page's load event), for `close_page`."""
    if request is not None and request.session_hash:
        OPEN_PAGES[request.session_hash] = state


def remember_this_page(state: PageState) -> None:
    """`remember`, from inside a handler (a Train: an API client has no load event)."""
    remember(state, LocalContext.request.get(None))


def close_page(request: gr.Request) -> None:
    """The tab was closed or reloaded: stop its runs and free their memory now, and Gradio's own
    record of the page too."""
    session = getattr(request, "session_hash", None) or ""
    state = OPEN_PAGES.pop(session, None)
    if state is not None:
        close_state(state)
        forget_session(session)


def forget_session(session: str) -> None:
    """Drop Gradio's record of a closed page: it keeps every page's last value of every component
    (the figures' JSON: hundreds of KB) until 10,000 later pages push it out, keeping a closed page
    for an hour in case it comes back. A closed page's state is closed here already, so a page that
    comes back starts afresh either way. (Gradio 6's StateHolder, not a documented interface.)"""
    holder = getattr(LocalContext.blocks.get(None), "state_holder", None)
    try:
        with holder.lock:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)
    except AttributeError:   # another Gradio: its own record stays
        pass


def close_state(state) -> None:
    """A closed page (or Gradio deleting its gr.State): stop its training, drop its pairs, caches
    and downloads."""
    if isinstance(state, PageState):
        for key in [key for key, page in list(OPEN_PAGES.items()) if page is state]:
            OPEN_PAGES.pop(key, None)
        state.close()


def unread() -> int:
    """How many of this handler's messages its page has not taken yet (0 when Gradio does not say:
    this reads the queue Gradio 6 keeps per session, not a documented interface)."""
    request, blocks = LocalContext.request.get(None), LocalContext.blocks.get(None)
    try:
        return blocks._queue.pending_messages_per_session[request.session_hash].qsize()
    except (AttributeError, KeyError, TypeError):
        return 0


def still_reading() -> bool:
    """Whether this handler's page reads what its stream sends."""
    return unread() <= MAX_UNREAD
