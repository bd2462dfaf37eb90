"""Give freed heap memory back to the operating system, now and then.

A live run allocates and frees many short-lived buffers of growing size (frames, figure JSON,
the history as arrays). glibc keeps what is freed in its heaps for reuse, so the process's
resident memory climbs with the run though little of it is in use; `malloc_trim(0)` now and
then hands it back (a soak with and without it: docs/speed.md). On a C library without `malloc_trim`
(macOS, musl) this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time

TRIM_EVERY_SECONDS = 5.0   # a trim walks the heaps: this often, a small share of a core (docs/speed.md)

_lock = threading.Lock()
_last_trim = 0.0


def _load_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _load_trim()


def release_free_memory(force: bool = False) -> bool:
    """malloc_trim(0), at most once every TRIM_EVERY_SECONDS across the process unless `force`.
    Returns whether a trim ran."""
    global _last_trim
    if _malloc_trim is None:
        return False
    with _lock:
        now = time.monotonic()
        if not force and now - _last_trim < TRIM_EVERY_SECONDS:
            return False
        _last_trim = now
    _malloc_trim(0)
    return True
