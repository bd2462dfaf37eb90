"""The pages open on this server, each with its PageState (explorer/page/state.py).

A page's state lives in its gr.State, made by the first event that needs it. Open pages are also
kept here by Gradio's session hash, so that closing a tab stops its training at once (Gradio
itself deletes a closed page's gr.State only an hour later).
"""
from __future__ import annotations

import gradio as gr

from explorer.page.state import PageState

OPEN_PAGES: dict[str, PageState] = {}


def ensure(state) -> PageState:
    """The page's PageState, made on its first event."""
    return state if isinstance(state, PageState) else PageState()


def remember(state: PageState, request: gr.Request | None) -> None:
    """Keep the page's state by its session hash (the page's load event), for `close_page`."""
    if request is not None and request.session_hash:
        OPEN_PAGES[request.session_hash] = state


def close_page(request: gr.Request) -> None:
    """The tab was closed or reloaded: stop its runs and free their memory now."""
    state = OPEN_PAGES.pop(getattr(request, "session_hash", None) or "", None)
    if state is not None:
        close_state(state)


def close_state(state) -> None:
    """A closed page (or Gradio deleting its gr.State): stop its training, drop its pairs, caches
    and downloads."""
    if isinstance(state, PageState):
        state.close()
