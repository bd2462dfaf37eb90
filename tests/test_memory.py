"""Freed heap memory goes back to the system (explorer/training/memory.py)."""
import sys

import pytest

from explorer.training import memory


def resident_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._malloc_trim is None, reason="glibc only")
def test_a_trim_gives_back_freed_memory_that_glibc_would_keep():
    blocks = [bytes(4000) for _ in range(50_000)]   # ~200 MB of malloc'd blocks (beyond pymalloc's sizes)
    pin = bytes(4000)                               # allocated last: the heap's top cannot shrink past it
    del blocks
    kept = resident_mb()
    assert memory.release_free_memory(force=True)
    assert kept - resident_mb() > 100, "the freed 200 MB stayed resident"
    assert not memory.release_free_memory(), "a second trim within TRIM_EVERY_SECONDS"
    del pin


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._mallopt is None, reason="glibc only")
def test_the_heaps_are_capped_as_set_and_left_alone_with_0(monkeypatch):
    monkeypatch.setenv("ENERGYLAB_MALLOC_ARENAS", "0")
    assert not memory.limit_heaps()
    monkeypatch.setenv("ENERGYLAB_MALLOC_ARENAS", "many")   # not a number: the default cap
    assert memory.limit_heaps()
