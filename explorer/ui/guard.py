"""The one error guard of the page's handlers: bad input becomes a message in the page, a bug is
logged with its trace and told in one line; never a traceback in the browser, never a dead page.

A guarded handler is `handler(page, state, *inputs)`: `page` holds the components (explorer/ui/page.py),
`state` the browser page's PageState, made here on the page's first event. What the message
updates is the handler's choice (`show`): the status line by default.
"""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable

from explorer.errors import expected_errors
from explorer.page import controls
from explorer.ui import frames
from explorer.ui.sessions import ensure

log = logging.getLogger("energylab")
EXPECTED = expected_errors()


def problem_of(error: Exception, handler: Callable) -> str:
    """The message the page shows for `error`; an unexpected one is logged with its trace."""
    if isinstance(error, EXPECTED):
        field = getattr(error, "field", None)   # a control's problem: its group shows it beside the control
        if field in controls.CONTROL_NAMES:
            return f"{error} {controls.pointer(controls.group_of(field))}"
        return str(error)
    log.error("handler %s failed", handler.__name__, exc_info=error)
    return f"something went wrong ({type(error).__name__}: {error}); the session keeps working"


def guarded(show: Callable = frames.only_status):
    """Decorate a handler (a function or a generator of updates): any exception becomes
    `show(page, state, problem=message)`, the other outputs staying as they are.

    The wrapper keeps the handler's signature (functools.wraps), which Gradio reads to fill in a
    gr.Progress default; and a generator's wrapper is a generator, so that Gradio streams it."""
    def decorate(handler: Callable) -> Callable:
        if inspect.isgeneratorfunction(handler):
            @functools.wraps(handler)
            def stream(page, state, *args, **kwargs):
                state = ensure(state)
                try:
                    yield from handler(page, state, *args, **kwargs)
                except Exception as e:  # noqa: BLE001 - the page must hear of it, not lose its session
                    yield show(page, state, problem=problem_of(e, handler))
            return stream

        @functools.wraps(handler)
        def wrapper(page, state, *args, **kwargs):
            state = ensure(state)
            try:
                return handler(page, state, *args, **kwargs)
            except Exception as e:  # noqa: BLE001 - the page must hear of it, not lose its session
                return show(page, state, problem=problem_of(e, handler))
        return wrapper
    return decorate
