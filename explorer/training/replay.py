"""Replay: the frames a run has shown, kept so that the page can scrub back through training.

A `ReplayStore` keeps a bounded list of frames in step order. The newest frame is always kept
(the "live" end of the slider) and so is the first; between them, kept frames lie at least
`spacing` steps apart. When the store passes its budget (MAX_FRAMES frames or MAX_BYTES of
arrays), `spacing` doubles and the interior is thinned to it, so a long run stays covered from
start to end at a coarser grain instead of losing its beginning.

Budget: a frame streamed while training holds a 48 x 48 landscape, 500 real and 500 generated
points with their energies, arrows and the latent grid; a still frame a 150 x 150 landscape
(their sizes: docs/speed.md). 200 frames and at most 24 MiB bound one session's replay. The
metric history is not copied into stored frames: it grows with the run and lives once, in the
run (the replayed curves are drawn from the run's history, marked at the replayed step).
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import fields, replace

import numpy as np

from explorer.measures.probes import Frame

MAX_FRAMES = 200
MAX_BYTES = 24 * 2**20


def frame_bytes(frame: Frame) -> int:
    """The bytes of a frame's numpy arrays (its landscape included); the small rest is ignored."""
    total = 0
    for item in fields(frame):
        value = getattr(frame, item.name)
        if isinstance(value, np.ndarray):
            total += value.nbytes
    if frame.landscape is not None:
        total += frame.landscape.xs.nbytes + frame.landscape.ys.nbytes + frame.landscape.energy.nbytes
    return total


class ReplayStore:
    """A bounded, thread-safe record of one run's frames in increasing step order."""

    def __init__(self, max_frames: int = MAX_FRAMES, max_bytes: int = MAX_BYTES):
        if max_frames < 2:
            raise ValueError("a replay store keeps at least the first and the newest frame")
        self.max_frames, self.max_bytes = max_frames, max_bytes
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget every frame (a new run, or a loaded pair)."""
        with self._lock:
            self._frames: list[Frame] = []
            self._sizes: list[int] = []
            self.spacing = 1   # the fewest steps between two kept frames (but the newest)

    # ------------------------------------------------------------------ adding
    def add(self, frame: Frame) -> None:
        """Keep `frame` as the newest frame; thin the store if it is over budget."""
        frame = replace(frame, history={})   # the run keeps the history, once
        size = frame_bytes(frame)
        with self._lock:
            frames, sizes = self._frames, self._sizes
            # the run went back (restored after divergence): frames past it show a past that never was
            while frames and frames[-1].step > frame.step:
                frames.pop()
                sizes.pop()
            if frames and frames[-1].step == frame.step:
                frames[-1], sizes[-1] = frame, size          # a newer look at the same step (e.g. a fine one)
            elif len(frames) >= 2 and frames[-1].step - frames[-2].step < self.spacing:
                frames[-1], sizes[-1] = frame, size          # the old newest was too close to keep
            else:
                frames.append(frame)
                sizes.append(size)
            while len(frames) > 2 and (len(frames) > self.max_frames or sum(sizes) > self.max_bytes):
                self._thin()

    def _thin(self) -> None:
        """Double the spacing and keep, from the first frame on, each frame at least `spacing`
        steps after the last one kept; the newest frame stays."""
        self.spacing *= 2
        frames, sizes = self._frames, self._sizes
        keep = [0]
        for i in range(1, len(frames) - 1):
            if frames[i].step - frames[keep[-1]].step >= self.spacing:
                keep.append(i)
        keep.append(len(frames) - 1)
        frames[:] = [frames[i] for i in keep]   # in place: add() holds these lists
        sizes[:] = [sizes[i] for i in keep]

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._frames)

    @property
    def nbytes(self) -> int:
        return sum(self._sizes)

    def steps(self) -> list[int]:
        with self._lock:
            return [f.step for f in self._frames]

    def newest(self) -> Frame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def nearest(self, step: float) -> Frame | None:
        """The kept frame whose step is closest to `step` (the earlier one on a tie); None if empty."""
        with self._lock:
            frames = self._frames
            if not frames:
                return None
            steps = [f.step for f in frames]
            i = bisect.bisect_left(steps, step)
            if i == 0:
                return frames[0]
            if i == len(frames):
                return frames[-1]
            return frames[i] if steps[i] - step < step - steps[i - 1] else frames[i - 1]


def step_marker_shapes(step: int, panels: int) -> list[dict]:
    """Plotly shapes: a dashed vertical line at `step` on each of `panels` subplot panels
    (axes x, x2, ...), to show where a replayed frame lies on the training curves."""
    shapes = []
    for index in range(panels):
        suffix = "" if index == 0 else str(index + 1)
        shapes.append(dict(type="line", xref="x" + suffix, yref=f"y{suffix} domain", x0=step, x1=step, y0=0, y1=1,
                           line=dict(color="#d62728", width=1.5, dash="dash")))
    return shapes
