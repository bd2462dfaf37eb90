"""Give freed heap memory back to the operating system, now and then.

A live run allocates and frees many short-lived buffers of growing size (frames, figure JSON,
the history as arrays). glibc keeps what is freed in its heaps for reuse, so the process's
resident memory climbs with the run though little of it is in use; `malloc_trim(0)` now and
then hands it back (a soak with and without it: docs/speed.md). On a C library without `malloc_trim`
(macOS, musl) this does nothing.

And glibc gives each thread that allocates its own heap ("arena"), up to 8 per core: with many
runs training in turn, each heap keeps its own high-water mark, and what a closed session freed
stays spread over them. The server caps the heaps at start (`limit_heaps`, ENERGYLAB_MALLOC_ARENAS,
default 2): three sessions trained and closed left +50 MB without it, +20 MB with it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time

TRIM_EVERY_SECONDS = 5.0   # a trim walks the heaps: this often, a small share of a core (docs/speed.md)

_lock = threading.Lock()
_last_trim = 0.0


M_ARENA_MAX = -8      # glibc's mallopt parameters
M_MMAP_THRESHOLD = -3
DEFAULT_HEAPS = 2
# Blocks from 1 MiB up come straight from the system and go back to it when freed. glibc's own
# threshold starts at 128 KiB and rises to the largest block freed (up to 32 MiB), after which a
# run's evaluation arrays (grids, samples) are carved from the heaps and leave them fragmented: a
# training process grew by 26-35 MB over 6,000 steps of the default ring with it, 1-6 MB with 1 MiB
# fixed, at the same speed (128 KiB fixed: 40 % slower, every step's tensors mapped and unmapped).
MMAP_THRESHOLD_BYTES = 1 << 20


def _libc_function(name: str):
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


_malloc_trim = _libc_function("malloc_trim")
_mallopt = _libc_function("mallopt")


def limit_heaps() -> bool:
    """Cap glibc's heaps at ENERGYLAB_MALLOC_ARENAS (default 2; 0 leaves glibc's own bound), for
    the threads that start from now on, and fix its mmap threshold at MMAP_THRESHOLD_BYTES.
    Returns whether a cap was set."""
    try:
        heaps = int(os.environ.get("ENERGYLAB_MALLOC_ARENAS", DEFAULT_HEAPS))
    except ValueError:
        heaps = DEFAULT_HEAPS
    if _mallopt is None:
        return False
    _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    return 1 <= heaps <= 1024 and bool(_mallopt(M_ARENA_MAX, heaps))


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


def resident_mb(pid: int) -> float | None:
    """A process's resident memory (Linux's /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration, ValueError):
        return None
