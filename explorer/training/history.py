"""A run's metric history: metric name -> the steps it was recorded at and its values.

A live run records about five numbers every ten steps for as long as it trains: in a 20-minute
soak, ~190,000 steps. Kept as Python lists of (step, value) tuples that was ~90 bytes a point,
allocated one small object at a time between the server's short-lived ones, so the history
pinned down much of Python's small-object heap as it grew. Here each metric lives in two
growable numpy arrays (int64 steps, float64 values): 16 bytes a point, in a few large buffers,
and a frame's copy of it is two array copies instead of a zip over every row.

Reading it looks like a dict of lists of (step, value) rows (`history["nll"]`, `.items()`), so
the code that shows or exports it needs no numpy; `arrays()` hands out frozen copies for frames.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

INITIAL_CAPACITY = 256


class MetricHistory(Mapping):
    """name -> rows [(step, value), ...] in recording order; appended to by `record` only."""

    def __init__(self, rows: Mapping | None = None):
        self._steps: dict[str, np.ndarray] = {}
        self._values: dict[str, np.ndarray] = {}
        self._length: dict[str, int] = {}
        self._rewrites = 0   # truncations so far: rows a reader copied may have changed since
        for name, points in (rows or {}).items():
            for step, value in points:
                self._append(str(name), int(step), float(value))

    # ------------------------------------------------------------------ writing
    def record(self, step: int, values: Mapping) -> None:
        """One row per metric, all at `step`."""
        for name, value in values.items():
            self._append(name, step, value)

    def _append(self, name: str, step: int, value: float) -> None:
        n = self._length.get(name, 0)
        steps = self._steps.get(name)
        if steps is None or n == len(steps):   # grow by doubling: amortised O(1) an append
            capacity = max(INITIAL_CAPACITY, 2 * n)
            self._steps[name] = np.resize(steps, capacity) if steps is not None else np.empty(capacity, np.int64)
            self._values[name] = (np.resize(self._values[name], capacity) if steps is not None
                                  else np.empty(capacity, np.float64))
        self._steps[name][n] = step
        self._values[name][n] = value
        self._length[name] = n + 1

    def truncate(self, last_step: int) -> None:
        """Forget every row recorded after `last_step` (a run restored to an earlier state)."""
        for name, n in self._length.items():
            keep = self._steps[name][:n] <= last_step
            kept = int(keep.sum())
            self._steps[name][:kept] = self._steps[name][:n][keep]
            self._values[name][:kept] = self._values[name][:n][keep]
            self._length[name] = kept
        self._rewrites += 1

    # ------------------------------------------------------------------ copying to another process
    # A training process sends a live run's history with every frame (explorer/training/processes.py).
    # Sent whole, a history of 100,000 steps made each frame's message 1.5 MB (and rising), so the
    # app's heaps churned blocks that grew with the run; it sends the rows added since instead (4.5 KB).
    def mark(self) -> tuple[int, dict[str, int]]:
        """Where a copy holding every row so far stands: for `news_since`."""
        return self._rewrites, dict(self._length)

    def news_since(self, mark: tuple[int, dict[str, int]]) -> tuple[str, object]:
        """What a copy standing at `mark` lacks: ("rows", name -> (steps, values) added since), or
        ("whole", this history) if rows were truncated since (a diverged run restored)."""
        rewrites, lengths = mark
        if rewrites != self._rewrites:
            return "whole", self
        return "rows", {name: (self._steps[name][lengths.get(name, 0):n].copy(),
                               self._values[name][lengths.get(name, 0):n].copy())
                        for name, n in self._length.items() if n > lengths.get(name, 0)}

    def with_news(self, news: tuple[str, object]) -> MetricHistory:
        """This history brought up to date by `news_since`'s answer (itself, extended; or the whole sent)."""
        kind, value = news
        if kind == "whole":
            return value
        for name, (steps, values) in value.items():
            for step, number in zip(steps.tolist(), values.tolist(), strict=True):
                self._append(name, step, number)
        return self

    # ------------------------------------------------------------------ reading
    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """name -> (steps, values): copies, safe to hand to another thread."""
        return {name: (self._steps[name][:n].copy(), self._values[name][:n].copy())
                for name, n in self._length.items()}

    def thinned(self, max_points: int) -> dict[str, list[list]]:
        """JSON-ready [step, value] rows, at most `max_points` a metric, evenly spread, ends kept."""
        record = {}
        for name, n in self._length.items():
            keep = np.unique(np.linspace(0, n - 1, min(n, max_points)).astype(int)) if n else []
            record[name] = [[int(self._steps[name][i]), float(self._values[name][i])] for i in keep]
        return record

    def __getitem__(self, name: str) -> list[tuple[int, float]]:
        n = self._length[name]
        return list(zip(self._steps[name][:n].tolist(), self._values[name][:n].tolist(), strict=True))

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._length))

    def __len__(self) -> int:
        return len(self._length)

    def points(self) -> int:
        """Rows over every metric."""
        return sum(self._length.values())

    def __repr__(self) -> str:
        return f"MetricHistory({', '.join(f'{k}: {n} rows' for k, n in self._length.items())})"
