"""Where the page's replay slider stands: live (the newest frame), or an earlier frame of the run.

The frames themselves are kept by the training session (explorer/training/replay.py); the cursor
is the page's choice among them.
"""
from __future__ import annotations

from dataclasses import dataclass

from explorer.errors import UserInputError
from explorer.measures.probes import Frame
from explorer.training.live import LiveSession


@dataclass
class ReplayCursor:
    step: int | None = None   # the step the replay slider holds; None: live
    since: int = 0            # the newest frame's id when the slider moved

    def replaying(self, live: LiveSession) -> bool:
        """Does the page hold an earlier frame? While training, newer frames wait behind it; the first
        still frame published after it (a Step, Reset, a loaded pair, training's last frame) returns to live."""
        if self.step is None:
            return False
        frame, frame_id = live.latest()
        if frame is None or len(live.replay) == 0 or (frame_id > self.since and not frame.info.get("training")):
            self.step = None
            return False
        return True

    def shown_frame(self, live: LiveSession) -> Frame | None:
        """The frame the landscape shows: the replayed one, or the newest."""
        if self.step is not None:
            frame = live.replay.nearest(self.step)
            if frame is not None:
                return frame
        return live.latest()[0]

    def move(self, live: LiveSession, step) -> bool:
        """The slider moved to `step`: hold the kept frame nearest it; at or past the newest, back to
        live. Returns whether the page now replays."""
        if step is None or step != step:
            raise UserInputError("the replay step must be a number")
        newest = live.replay.newest()
        if newest is None:
            raise UserInputError("nothing to replay yet: choose a pair or press Train")
        if step >= newest.step:
            self.step = None
            return False
        self.step, self.since = int(step), live.latest()[1]
        return True

    def released_at(self, live: LiveSession, step) -> int:
        """Where the slider rests once let go: the step of the kept frame it shows (or `step`, live)."""
        shown = live.replay.nearest(step) if self.step is not None else None
        return shown.step if shown is not None else step

    def go_live(self, live: LiveSession) -> int | None:
        """Back to the newest frame; returns its step (None: no frame yet)."""
        self.step = None
        newest = live.replay.newest()
        return newest.step if newest is not None else None

    def slider(self, live: LiveSession) -> dict:
        """The slider's range over the kept frames (minimum, maximum, interactive) and, while live,
        its value: the newest step."""
        steps = live.replay.steps()
        if not steps:
            return {"minimum": 0, "maximum": 1, "value": 0, "interactive": False}
        # one frame (a loaded pair, a new run): nothing to scrub; the slider wants minimum < maximum
        update = {"minimum": steps[0], "maximum": max(steps[-1], steps[0] + 1), "interactive": len(steps) > 1}
        if self.step is None:
            update["value"] = steps[-1]
        return update


def replaying_note(step: int, note: str | None = None) -> str:
    """The status line's note while an earlier frame is shown."""
    where = f"replaying step {step:,}: Live (or the slider's right end) shows the newest"
    return f"{note} · {where}" if note else where
